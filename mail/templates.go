package mail

import (
	"bytes"
	htmltemplate "html/template"
	"strconv"
	"strings"
	texttemplate "text/template"
)

// resetText is the password reset mail in one language.
type resetText struct {
	Lang, Subject, Greeting, Intro, Action, Expiry, Ignore, Signature string
}

var resetTexts = map[string]resetText{
	"id": {
		Lang:      "id",
		Subject:   "Atur ulang kata sandi Jarimu",
		Greeting:  "Halo {{name}},",
		Intro:     "Kami menerima permintaan untuk mengatur ulang kata sandi akun Jarimu Anda.",
		Action:    "Buka tautan ini untuk memilih kata sandi baru:",
		Expiry:    "Tautan ini berlaku {{minutes}} menit dan hanya dapat dipakai sekali. Setelah kata sandi diganti, semua sesi masuk Anda berakhir.",
		Ignore:    "Jika Anda tidak memintanya, abaikan email ini: kata sandi Anda tidak berubah.",
		Signature: "Jarimu, Bawaslu",
	},
	"en": {
		Lang:      "en",
		Subject:   "Reset your Jarimu password",
		Greeting:  "Hello {{name}},",
		Intro:     "We received a request to reset the password of your Jarimu account.",
		Action:    "Open this link to choose a new password:",
		Expiry:    "The link works for {{minutes}} minutes, once. When the password is changed, every session of your account ends.",
		Ignore:    "If you did not ask for this, ignore this mail: your password stays as it is.",
		Signature: "Jarimu, Bawaslu",
	},
}

// resetData fills the templates: the language sections in order (the
// recipient's language first, then the other).
type resetData struct {
	Link     string
	Sections []resetText
}

var resetPlain = texttemplate.Must(texttemplate.New("reset").Parse(`{{range $i, $s := .Sections}}{{if $i}}
----------------------------------------

{{end}}{{$s.Greeting}}

{{$s.Intro}}

{{$s.Action}}
{{$.Link}}

{{$s.Expiry}}

{{$s.Ignore}}

-- 
{{$s.Signature}}
{{end}}`))

var resetHTML = htmltemplate.Must(htmltemplate.New("reset").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{(index .Sections 0).Subject}}</title></head>
<body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1b1b1b;max-width:36em;margin:0 auto;padding:1em">
{{range $i, $s := .Sections}}{{if $i}}<hr style="border:0;border-top:1px solid #ccc;margin:2em 0">{{end}}
<div lang="{{$s.Lang}}">
<p>{{$s.Greeting}}</p>
<p>{{$s.Intro}}</p>
<p>{{$s.Action}}</p>
<p><a href="{{$.Link}}" style="display:inline-block;background:#8a1c1c;color:#fff;padding:.6em 1.2em;border-radius:.3em;text-decoration:none">{{$s.Subject}}</a></p>
<p style="font-size:.9em;word-break:break-all">{{$.Link}}</p>
<p>{{$s.Expiry}}</p>
<p>{{$s.Ignore}}</p>
<p style="color:#555">{{$s.Signature}}</p>
</div>
{{end}}
</body></html>
`))

// KindPasswordReset is the Kind of the password reset mail.
const KindPasswordReset = "password_reset"

// PasswordReset is the password reset mail to name, carrying link (valid
// for minutes): in lang ("id" or "en") first and the other language after,
// as plain text with an HTML alternative. The caller sets To and UserID.
func PasswordReset(lang, name, link string, minutes int) (Message, error) {
	order := []string{"id", "en"}
	if lang == "en" {
		order = []string{"en", "id"}
	}
	d := resetData{Link: link}
	for _, l := range order {
		t := resetTexts[l]
		fill := strings.NewReplacer("{{name}}", name, "{{minutes}}", strconv.Itoa(minutes))
		t.Greeting, t.Expiry = fill.Replace(t.Greeting), fill.Replace(t.Expiry)
		d.Sections = append(d.Sections, t)
	}
	var text, html bytes.Buffer
	if err := resetPlain.Execute(&text, d); err != nil {
		return Message{}, err
	}
	if err := resetHTML.Execute(&html, d); err != nil {
		return Message{}, err
	}
	subject := d.Sections[0].Subject + " / " + d.Sections[1].Subject
	return Message{Kind: KindPasswordReset, Subject: subject, Text: text.String(), HTML: html.String()}, nil
}
