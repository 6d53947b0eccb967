package evidence

import "bytes"

// sniffLen is how many leading bytes sniff needs (the WebP header).
const sniffLen = 12

// sniff names the media type of content starting with head, by signature
// only: PNG, JPEG (the SOI marker FF D8 FF), WebP (a RIFF container of form
// WEBP) or PDF ("%PDF-"). Anything else is "".
func sniff(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(head, []byte{0xff, 0xd8, 0xff}):
		return "image/jpeg"
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return "image/webp"
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return "application/pdf"
	}
	return ""
}
