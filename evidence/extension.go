package evidence

// Extension is the file name extension of an evidence content type, for
// downloads and exports ("" for one that is not stored).
func Extension(contentType string) string {
	switch contentType {
	case "image/png":
		return ".png"
	case "image/jpeg":
		return ".jpg"
	case "image/webp":
		return ".webp"
	case "application/pdf":
		return ".pdf"
	}
	return ""
}
