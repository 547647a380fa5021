package main

import (
	"bufio"
	"net"
	"sync"

	"github.com/m1gw/m1/gw/telegram"
)

// echoServer is the baseline: it frames telegrams like the listener and
// answers each at once, with no checks, no index and no queue, flushing
// when the reader has nothing more buffered. What loadgen measures against
// it is the cost of the client, TCP and framing on this machine; the
// listener's figure beside it shows what its own work costs.
type echoServer struct {
	ln net.Listener
	wg sync.WaitGroup
}

func startEcho() (*echoServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &echoServer{ln: ln}
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.acceptLoop() }()
	return s, nil
}

func (s *echoServer) addr() string { return s.ln.Addr().String() }

func (s *echoServer) close() {
	_ = s.ln.Close()
	s.wg.Wait()
}

func (s *echoServer) acceptLoop() {
	var conns sync.WaitGroup
	defer conns.Wait()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		conns.Add(1)
		go func() { defer conns.Done(); echoLoop(c) }()
	}
}

func echoLoop(c net.Conn) {
	defer c.Close()
	rd := telegram.NewReader(c, 64<<10)
	bw := bufio.NewWriterSize(c, 32<<10)
	gwid := []byte("00000000000000000001")
	var body [40]byte
	for {
		f, err := rd.Next()
		if err != nil {
			return
		}
		h, b, err := telegram.ParseHeader(f)
		if err != nil {
			return
		}
		var out []byte
		switch h.Type {
		case telegram.TypeSubmit:
			copy(body[:20], b[:20])
			copy(body[20:], gwid)
			out = telegram.AppendFrame(bw.AvailableBuffer(), telegram.TypeSubmitResp, h.Seq, telegram.OK, body[:])
		case telegram.TypeMultiSubmit:
			m, err := telegram.DecodeMultiSubmit(b)
			if err != nil {
				return
			}
			var r telegram.MultiSubmitResp
			for _, d := range m.Dests {
				r.Results = append(r.Results, telegram.MultiResult{MsgKey: d.MsgKey, GWID: string(gwid)})
			}
			out = r.Append(bw.AvailableBuffer(), h.Seq, telegram.OK)
		case telegram.TypeReportResp, telegram.TypeLinkResp:
			continue
		default:
			out = telegram.AppendEmpty(bw.AvailableBuffer(), h.Type.Response(), h.Seq, telegram.OK)
		}
		if _, err := bw.Write(out); err != nil {
			return
		}
		if h.Type == telegram.TypeUnbind {
			_ = bw.Flush()
			return
		}
		if rd.Buffered() == 0 {
			if err := bw.Flush(); err != nil {
				return
			}
		}
	}
}
