package urlnorm

import "strings"

// youTubeVideoPaths are youtube.com paths whose next segment is a video ID
// that /watch?v= shows as well. /embed/ is left alone: /embed/videoseries
// is a playlist.
var youTubeVideoPaths = []string{"/shorts/", "/live/"}

// rewriteYouTube turns youtu.be/<id>, youtube.com/shorts/<id> and
// youtube.com/live/<id> into youtube.com/watch?v=<id>. Other parameters (a
// start time t=42) stay.
func (p *parts) rewriteYouTube() {
	var id string
	switch p.host {
	case "youtu.be":
		id = firstSegment(p.path)
	case "youtube.com":
		for _, pre := range youTubeVideoPaths {
			if rest, ok := strings.CutPrefix(p.path, pre); ok {
				id = firstSegment(rest)
			}
		}
	}
	if id == "" {
		return
	}
	p.host, p.path = "youtube.com", "/watch"
	p.setQuery("v", id)
}

// firstSegment is the first non-empty segment of path, which need not start
// with "/".
func firstSegment(path string) string {
	seg, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return seg
}
