package sender

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/carrier"
)

// link is one logged-in connection to a server.
type link struct {
	addr string
	nc   net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
}

// ErrLoginRefused is returned (wrapped) when a server answers the login
// with anything but acceptance; the next server is tried.
var ErrLoginRefused = errors.New("login refused")

// connect tries the servers in order, from the first every time (the first
// is the primary center), and returns the first link that logs in.
func (s *Sender) connect() (*link, error) {
	var errs []error
	for _, addr := range s.o.Servers {
		if s.stopping() {
			return nil, errors.New("stopping")
		}
		l, err := s.dialLogin(addr)
		if err == nil {
			s.log.Info("link up", zap.String("server", addr))
			return l, nil
		}
		s.log.Warn("server refused the link", zap.String("server", addr), zap.Error(err))
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func (s *Sender) dialLogin(addr string) (*link, error) {
	d := net.Dialer{Timeout: s.o.ConnectTimeout}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	l := &link{addr: addr, nc: nc, r: bufio.NewReaderSize(nc, 64<<10), w: bufio.NewWriterSize(nc, 64<<10)}
	if err := s.login(l); err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	return l, nil
}

func (s *Sender) login(l *link) error {
	dl := s.o.Dialect
	_ = l.nc.SetDeadline(time.Now().Add(s.o.ConnectTimeout))
	defer l.nc.SetDeadline(time.Time{})
	seq := s.nextSeq()
	b, err := dl.Append(nil, &carrier.PDU{Type: carrier.Login, Seq: seq, Login: s.o.Login, Password: s.o.Password})
	if err != nil {
		return err
	}
	if _, err := l.nc.Write(b); err != nil {
		return err
	}
	for {
		f, err := carrier.ReadFrame(l.r, dl, nil)
		if err != nil {
			return fmt.Errorf("waiting for the login response: %w", err)
		}
		var p carrier.PDU
		if err := dl.Decode(f, &p); err != nil {
			return err
		}
		if p.Type != carrier.LoginResp {
			continue // a server may send a link check before answering
		}
		if o := dl.SubmitOutcome(p.Result); o.Class != carrier.Accepted {
			return fmt.Errorf("%w: %s (%s, %v)", ErrLoginRefused, p.Result, o.Meaning, o.Code)
		}
		return nil
	}
}

func (s *Sender) nextSeq() uint32 {
	s.seq = s.seq%(carrier.SeqModulo-1) + 1
	return s.seq
}
