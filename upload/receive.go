package upload

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"os"
	"time"
)

// Limits of mime/multipart's ReadForm (Go 1.26, without GODEBUG
// overrides) that the receiving pass enforces first, so that the form the
// application reads is parsed under limits the guard has already checked:
// a body within the guard's limits is within ReadForm's.
const (
	readFormMaxParts   = 1000  // parts of a form (multipartmaxparts)
	readFormMaxHeaders = 10000 // header values over a form's file parts (multipartmaxheaders)
	// peekBufferSize is mime/multipart's read-ahead: while NextPart reads
	// a part's headers, it may read this much of the part's body too.
	peekBufferSize = 4096
)

// Errors of the receiving pass, told apart for the status code.
var (
	errTooManyFiles  = errors.New("too many files")
	errTooManyParts  = errors.New("too many parts")
	errFieldsLarge   = errors.New("form fields too large")
	errHeadersLarge  = errors.New("part headers too large")
	errOverloaded    = errors.New("overloaded")
	errTooSlow       = errors.New("the body arrives too slowly")
	errHeaderTooLong = fmt.Errorf("%w (while reading them)", errHeadersLarge)
)

// part is a form part as the receiving pass saw it.
type part struct {
	field    string
	file     bool
	filename string // as mime/multipart reports it (Part.FileName)
	original string // the filename parameter as sent
	index    int    // among the files (or values) of its field, as in the form
	size     int64
}

// bodyReader reads the request body under the guard's time rules: the
// whole body by the deadline, and, after MinRateGrace, at least MinRate
// bytes a second on average; an evicted request's read fails at once.
// With a server connection it sets the read deadline before each read, so
// a client that sends nothing cannot hold a read open past either limit.
type bodyReader struct {
	r           io.Reader
	e           *inflight
	deadline    time.Time
	minRate     float64 // bytes per second; ≤ 0: no minimum
	grace       time.Duration
	canDeadline bool
}

func (b *bodyReader) due() time.Time {
	due := b.deadline
	if b.minRate > 0 {
		n := float64(b.e.received.Load())
		t := b.e.start.Add(max(b.grace, time.Duration(n/b.minRate*float64(time.Second))))
		if t.Before(due) {
			due = t
		}
	}
	return due
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.e.evicted.Load() {
		return 0, errTooSlow
	}
	due := b.due()
	if !time.Now().Before(due) {
		return 0, b.late()
	}
	if b.canDeadline {
		_ = b.e.rc.SetReadDeadline(due)
		if b.e.evicted.Load() { // evicted while we set it: make the read fail
			_ = b.e.rc.SetReadDeadline(time.Now())
		}
	}
	n, err := b.r.Read(p)
	b.e.received.Add(int64(n))
	var netErr net.Error
	if err != nil && (errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout()) {
		return n, b.late()
	}
	return n, err
}

// late says which limit a read ran into.
func (b *bodyReader) late() error {
	if b.e.evicted.Load() || time.Now().Before(b.deadline) {
		return errTooSlow
	}
	return os.ErrDeadlineExceeded
}

// headerBudget caps the bytes mime/multipart may read while it reads a
// part's headers (and any preamble before the first part), so that a
// header flood fails as it arrives instead of being buffered whole.
type headerBudget struct {
	r    io.Reader
	on   bool
	left int64
}

func (h *headerBudget) Read(p []byte) (int, error) {
	if h.on {
		if h.left <= 0 {
			return 0, errHeaderTooLong
		}
		p = p[:min(int64(len(p)), h.left)]
	}
	n, err := h.r.Read(p)
	if h.on {
		h.left -= int64(n)
	}
	return n, err
}

// headerSize is the size of a part's headers as sent: "Key: value\r\n".
func headerSize(h map[string][]string) (size int64, values int) {
	for k, vs := range h {
		for _, v := range vs {
			size += int64(len(k)+len(v)) + 4
			values++
		}
	}
	return size, values
}

// receive reads the body into sp while walking its parts with the same
// parser ReadForm uses, enforcing the limits on the way: a hostile body
// is refused as soon as it crosses one, and the later ReadForm only ever
// sees bounded input.
func (g *Guard) receive(body io.Reader, boundary string, sp *spool) ([]part, error) {
	hb := &headerBudget{r: io.TeeReader(body, sp)}
	mr := multipart.NewReader(hb, boundary)
	var parts []part
	files := map[string]int{}
	values := map[string]int{}
	var fieldBytes, headerBytes int64
	nFiles, nParts, fileHeaderValues := 0, 0, 0
	for {
		// While NextPart reads headers, it may also read the rest of the
		// boundary line and, ahead, up to peekBufferSize bytes of the body.
		hb.on, hb.left = true, g.cfg.MaxPartHeaderBytes+peekBufferSize+int64(len(boundary))+8
		p, err := mr.NextPart()
		hb.on = false
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if nParts++; nParts > readFormMaxParts {
			return nil, errTooManyParts
		}
		size, nValues := headerSize(p.Header)
		headerBytes += size
		if size > g.cfg.MaxPartHeaderBytes || headerBytes > g.cfg.MaxHeaderBytes {
			return nil, errHeadersLarge
		}
		name := p.FormName()
		if name == "" || p.FileName() == "" {
			// A field (or a part ReadForm skips): only its size matters here.
			// ReadForm counts 200 bytes per field too.
			const overhead = 200
			fieldBytes += int64(len(name)) + overhead
			n, err := io.Copy(io.Discard, io.LimitReader(p, max(0, g.cfg.MaxFieldBytes-fieldBytes)+1))
			fieldBytes += n
			if err != nil {
				return nil, err
			}
			if fieldBytes > g.cfg.MaxFieldBytes {
				return nil, errFieldsLarge
			}
			if name != "" {
				parts = append(parts, part{field: name, index: values[name], size: n})
				values[name]++
			}
			continue
		}
		if nFiles == g.cfg.MaxFiles {
			return nil, errTooManyFiles
		}
		if fileHeaderValues += nValues; fileHeaderValues > readFormMaxHeaders {
			return nil, errHeadersLarge
		}
		n, err := io.Copy(io.Discard, p)
		if err != nil {
			return nil, err
		}
		parts = append(parts, part{field: name, file: true, filename: p.FileName(), original: rawFilename(p.Header.Get("Content-Disposition")),
			index: files[name], size: n})
		files[name]++
		nFiles++
	}
	// Drain the epilogue, unspooled, so the connection can be reused.
	if _, err := io.Copy(io.Discard, body); err != nil {
		return nil, err
	}
	return parts, sp.err
}

// rawFilename is the filename parameter of a Content-Disposition as sent
// (Part.FileName keeps only its last path element).
func rawFilename(disposition string) string {
	_, params, err := mime.ParseMediaType(disposition)
	if err != nil {
		return ""
	}
	return params["filename"]
}
