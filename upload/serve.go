package upload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Wrap returns a handler that checks each upload before next sees it.
func (g *Guard) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { g.serve(w, r, next) })
}

// earlyAnswerWriteTimeout bounds writing an answer to a client that does
// not read it.
const earlyAnswerWriteTimeout = 10 * time.Second

func (g *Guard) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	g.stats.requests.Add(1)
	arrival := time.Now()
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		g.serveBodyless(w, r, next, arrival)
		return
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	boundary := params["boundary"]
	if err != nil || mt != "multipart/form-data" || boundary == "" {
		g.stats.unsupportedMedia.Add(1)
		g.refuse(w, http.StatusUnsupportedMediaType, "unsupported-media-type",
			"uploads must be sent as multipart/form-data with a boundary parameter")
		return
	}
	if r.ContentLength > g.cfg.MaxBodyBytes {
		g.stats.tooLarge.Add(1)
		g.refuse(w, http.StatusRequestEntityTooLarge, "too-large",
			fmt.Sprintf("the upload is %s, over the %s limit", size(r.ContentLength), size(g.cfg.MaxBodyBytes)))
		return
	}
	rc := http.NewResponseController(w)
	e := &inflight{start: arrival, client: g.clientKey(r), rc: rc}
	switch g.admit(e) {
	case admitFull:
		g.overloaded(w, true)
		return
	case admitClientLimit:
		g.stats.clientLimited.Add(1)
		w.Header().Set("Retry-After", "1")
		g.refuse(w, http.StatusTooManyRequests, "too-many-requests",
			fmt.Sprintf("at most %d uploads from one client at once", g.cfg.MaxPendingPerClient))
		return
	}
	defer g.leave(e)

	ctx, cancel := context.WithTimeout(r.Context(), g.cfg.Timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()

	// Receive. The read deadline makes a slow client's Read fail at the
	// deadline (or when it falls under MinRate) instead of holding the
	// request, and its admission, for as long as it likes; servers that
	// cannot set one (ErrNotSupported) are left as they are.
	canDeadline := rc.SetReadDeadline(deadline) == nil
	e.receiving.Store(true)
	sp := newSpool(g.cfg.MaxMemory)
	defer sp.Close()
	body := &bodyReader{r: http.MaxBytesReader(w, r.Body, g.cfg.MaxBodyBytes), e: e, deadline: deadline,
		minRate: float64(g.cfg.MinRate), grace: g.cfg.MinRateGrace, canDeadline: canDeadline}
	parts, err := g.receive(body, boundary, sp)
	e.receiving.Store(false)
	if canDeadline {
		_ = rc.SetReadDeadline(time.Time{})
	}
	switch {
	case sp.err != nil:
		g.internal(w, true)
		return
	case err != nil:
		g.receiveFailed(w, r, err)
		return
	}

	// Parse the spooled body with the standard parser into the form the
	// application will read. It is the parser of the receiving pass, on the
	// same bytes, so it finds the same parts; checkParts verifies it.
	req := r.WithContext(r.Context())
	req.Body = io.NopCloser(sp.reader())
	err = req.ParseMultipartForm(g.cfg.MaxMemory)
	form := req.MultipartForm
	if form != nil {
		defer form.RemoveAll()
	}
	sp.Close() // the form has its own copy
	req.Body = http.NoBody
	switch {
	case err != nil && form != nil:
		// The form is fine (the receiving pass parsed it); ParseForm
		// choked on the URL's query string.
		g.stats.malformed.Add(1)
		g.fail(w, http.StatusBadRequest, "malformed", "malformed query string: "+err.Error())
		return
	case errors.Is(err, multipart.ErrMessageTooLarge):
		// Only if GODEBUG lowered ReadForm's limits below the guard's.
		g.stats.tooLarge.Add(1)
		g.fail(w, http.StatusRequestEntityTooLarge, "too-large", "the form is over a limit of the multipart parser")
		return
	case err != nil:
		// Same bytes, same parser: only storage (temporary files) can fail.
		g.internal(w, false)
		return
	}

	rs := &reqState{arrival: arrival.UnixNano(), deadline: deadline.UnixNano()}
	rep, err := g.checkParts(ctx, rs, form, parts, queryValues(r))
	switch {
	case r.Context().Err() != nil:
		return // the client left; nobody reads an answer
	case errors.Is(err, errOverloaded):
		g.overloaded(w, false)
		return
	case err != nil:
		g.internal(w, false)
		return
	}
	g.answer(w, r, req, rep, next)
}

// serveBodyless passes a request without a body, after checking its
// query for images.
func (g *Guard) serveBodyless(w http.ResponseWriter, r *http.Request, next http.Handler, arrival time.Time) {
	q := queryValues(r)
	found := false
	for _, f := range q {
		if len(imagesInText(f.value)) > 0 {
			found = true
			break
		}
	}
	if !found {
		next.ServeHTTP(w, r) // nothing uploaded
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), g.cfg.Timeout)
	defer cancel()
	dl, _ := ctx.Deadline()
	rep, err := g.checkParts(ctx, &reqState{arrival: arrival.UnixNano(), deadline: dl.UnixNano()}, nil, nil, q)
	switch {
	case r.Context().Err() != nil:
		return
	case errors.Is(err, errOverloaded):
		g.overloaded(w, false)
		return
	case err != nil:
		g.internal(w, false)
		return
	}
	g.answer(w, r, r, rep, next)
}

// answer sends 422 for a rejected report, or runs next.
func (g *Guard) answer(w http.ResponseWriter, r, req *http.Request, rep *Report, next http.Handler) {
	if !rep.Accepted() {
		g.stats.rejected.Add(1)
		writeJSON(w, http.StatusUnprocessableEntity, rep)
		return
	}
	g.stats.passed.Add(1)
	req = req.WithContext(context.WithValue(r.Context(), reportKey{}, rep))
	next.ServeHTTP(w, req)
}

// textValue is a form value, in order.
type textValue struct {
	field, value string
	query        bool
}

// queryValues lists the URL's query values, which r.FormValue returns too.
func queryValues(r *http.Request) []textValue {
	if r.URL == nil || r.URL.RawQuery == "" {
		return nil
	}
	q, _ := url.ParseQuery(r.URL.RawQuery)
	var out []textValue
	for _, k := range sortedKeys(q) {
		for _, v := range q[k] {
			out = append(out, textValue{field: k, value: v, query: true})
		}
	}
	return out
}

func (g *Guard) receiveFailed(w http.ResponseWriter, r *http.Request, err error) {
	var maxErr *http.MaxBytesError
	var netErr net.Error
	switch {
	case errors.As(err, &maxErr):
		g.stats.tooLarge.Add(1)
		g.refuse(w, http.StatusRequestEntityTooLarge, "too-large", fmt.Sprintf("the upload is over the %s limit", size(g.cfg.MaxBodyBytes)))
	case errors.Is(err, errTooManyFiles):
		g.stats.tooLarge.Add(1)
		g.refuse(w, http.StatusRequestEntityTooLarge, "too-large", fmt.Sprintf("at most %d files can be uploaded at once", g.cfg.MaxFiles))
	case errors.Is(err, errTooManyParts):
		g.stats.tooLarge.Add(1)
		g.refuse(w, http.StatusRequestEntityTooLarge, "too-large", fmt.Sprintf("the form has more than %d parts", readFormMaxParts))
	case errors.Is(err, errFieldsLarge):
		g.stats.tooLarge.Add(1)
		g.refuse(w, http.StatusRequestEntityTooLarge, "too-large", fmt.Sprintf("the form fields are over the %s limit", size(g.cfg.MaxFieldBytes)))
	case errors.Is(err, errHeadersLarge):
		g.stats.tooLarge.Add(1)
		g.refuse(w, http.StatusRequestEntityTooLarge, "too-large",
			fmt.Sprintf("the headers of the form's parts are over their limit (%s a part, %s in all)", size(g.cfg.MaxPartHeaderBytes), size(g.cfg.MaxHeaderBytes)))
	case errors.Is(err, errTooSlow):
		g.stats.tooSlow.Add(1)
		g.refuse(w, http.StatusRequestTimeout, "too-slow",
			fmt.Sprintf("the upload arrived too slowly (under %s a second after %s)", size(g.cfg.MinRate), g.cfg.MinRateGrace))
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		g.stats.timedOut.Add(1)
		g.refuse(w, http.StatusRequestTimeout, "timeout", fmt.Sprintf("the upload did not arrive within %s", g.cfg.Timeout))
	case r.Context().Err() != nil:
		// The client went away mid-body.
	default:
		g.stats.malformed.Add(1)
		msg := strings.TrimPrefix(err.Error(), "multipart: ")
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			msg = "the body ends before its closing boundary"
		}
		g.refuse(w, http.StatusBadRequest, "malformed", "malformed multipart body: "+msg)
	}
}

func (g *Guard) overloaded(w http.ResponseWriter, early bool) {
	g.stats.overloaded.Add(1)
	wait := time.Duration(int64(g.sched.waiting()+g.cfg.Workers) * g.ewma.Load() / int64(g.cfg.Workers))
	secs := int(min(120, max(1, math.Ceil(wait.Seconds()))))
	w.Header().Set("Retry-After", fmt.Sprint(secs))
	msg := fmt.Sprintf("the server is busy checking other uploads; try again in %d s", secs)
	if early {
		g.refuse(w, http.StatusServiceUnavailable, "overloaded", msg)
		return
	}
	g.fail(w, http.StatusServiceUnavailable, "overloaded", msg)
}

// internal answers 500 without details: they are the server's business.
func (g *Guard) internal(w http.ResponseWriter, early bool) {
	g.stats.internal.Add(1)
	if early {
		g.refuse(w, http.StatusInternalServerError, "internal", "the upload could not be stored; try again later")
		return
	}
	g.fail(w, http.StatusInternalServerError, "internal", "the upload could not be checked; try again later")
}

// refuse answers before the body was read to its end, and closes the
// connection after the answer. Otherwise net/http would read what is left
// of a small body (under 256 KiB) before sending the answer, or, with
// Connection: close, after it, before closing: a client that holds back
// the rest of its body would never get the answer, or would hold the
// connection for as long as it likes. So the answer is flushed, and the
// connection's reads are made to fail at once.
func (g *Guard) refuse(w http.ResponseWriter, status int, code, msg string) {
	rc := http.NewResponseController(w)
	w.Header().Set("Connection", "close")
	_ = rc.SetWriteDeadline(time.Now().Add(earlyAnswerWriteTimeout))
	g.fail(w, status, code, msg)
	_ = rc.Flush()
	_ = rc.SetReadDeadline(time.Now())
}

func (g *Guard) fail(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, errorBody{Error: code, Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// size renders a byte count: "16 MiB", "1.5 MiB", "300 KiB", "12 bytes".
func size(n int64) string {
	switch {
	case n >= 1<<20:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/(1<<20)), ".0") + " MiB"
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", (n+512)>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
