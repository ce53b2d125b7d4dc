package upload

import (
	"bytes"
	"io"
	"os"
)

// spool holds a request body as it arrives: in memory up to max bytes,
// then in an anonymous temporary file. The file is unlinked as soon as it
// is created, so it disappears with the descriptor even if the process
// dies mid-request; Close releases both.
type spool struct {
	max int64
	mem []byte
	f   *os.File
	n   int64
	err error // the first write error, sticky
}

// newSpool makes a spool. Its memory grows with the bytes that arrive, not
// with the length a client declares, so slow clients hold little.
func newSpool(max int64) *spool { return &spool{max: max} }

func (s *spool) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.f == nil && s.n+int64(len(p)) <= s.max {
		s.mem = append(s.mem, p...)
		s.n += int64(len(p))
		return len(p), nil
	}
	if s.f == nil {
		f, err := os.CreateTemp("", "nsfw-upload-*")
		if err != nil {
			s.err = err
			return 0, err
		}
		os.Remove(f.Name()) // unlinked: nothing to clean up later, even after a crash
		s.f = f
		if _, err := f.Write(s.mem); err != nil {
			s.err = err
			return 0, err
		}
		s.mem = nil
	}
	n, err := s.f.Write(p)
	s.n += int64(n)
	if err != nil {
		s.err = err
	}
	return n, err
}

// reader reads the spooled bytes from the start; it does not consume them.
func (s *spool) reader() io.Reader {
	if s.f == nil {
		return bytes.NewReader(s.mem)
	}
	return io.NewSectionReader(s.f, 0, s.n)
}

// onDisk reports whether the body outgrew memory.
func (s *spool) onDisk() bool { return s.f != nil }

func (s *spool) Close() error {
	s.mem = nil
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}
