package upload

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxFilenameBytes is the longest name most file systems take.
const maxFilenameBytes = 255

// SanitizeFilename turns a filename sent by a client into a plain base
// name that is safe to use as one path element on Unix and Windows:
//
//   - only what follows the last '/' or '\' is kept ("..\..\x.png" is
//     "x.png");
//   - invalid UTF-8, control characters and the characters Windows
//     forbids (< > : " | ? *) become '_';
//   - leading dots and spaces are dropped (no hidden files, no "." or
//     ".."), and so are trailing ones (Windows drops them silently);
//   - Windows device names (CON, NUL, COM1, ... with any extension) get a
//     leading '_';
//   - the name is cut to 255 bytes, keeping its extension;
//   - an empty result is "file".
//
// The guard gives the application these names in the parsed form
// (FileHeader.Filename); the name as sent stays in the part's
// Content-Disposition header and in FileReport.OriginalFilename. It is
// still the client's choice: never trust it to be unique, or to say what
// the file is.
func SanitizeFilename(name string) string {
	name = strings.ToValidUTF8(name, "_")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || strings.ContainsRune(`<>:"|?*`, r) || r == utf8.RuneError {
			return '_'
		}
		return r
	}, name)
	name = strings.TrimLeft(name, ". ")
	name = strings.TrimRight(name, ". ")
	if name == "" {
		return "file"
	}
	base := strings.ToUpper(strings.TrimSuffix(name, path.Ext(name)))
	switch base {
	case "CON", "PRN", "AUX", "NUL",
		"COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
		"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9":
		name = "_" + name
	}
	if len(name) > maxFilenameBytes {
		ext := path.Ext(name)
		if len(ext) > 16 {
			ext = ""
		}
		stem := name[:maxFilenameBytes-len(ext)]
		for !utf8.ValidString(stem) {
			stem = stem[:len(stem)-1]
		}
		name = strings.TrimRight(stem, ". ") + ext
	}
	return name
}
