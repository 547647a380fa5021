package sim

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// ServeControl listens on addr for the control line protocol (package
// doc) until the simulator is closed. It returns the address it listens on.
func (s *Sim) ServeControl(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("sim: control: %w", err)
	}
	s.mu.Lock()
	s.ctl = ln
	s.mu.Unlock()
	s.wg.Add(1)
	go s.controlLoop(ln)
	return ln.Addr().String(), nil
}

func (s *Sim) controlLoop(ln net.Listener) {
	defer s.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Sugar().Warnf("control accept: %v", err)
			}
			return
		}
		s.mu.Lock()
		if s.closed.Load() {
			s.mu.Unlock()
			_ = nc.Close()
			return
		}
		s.ctlConns[nc] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go s.controlConnLoop(nc)
	}
}

func (s *Sim) controlConnLoop(nc net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.ctlConns, nc)
		s.mu.Unlock()
		_ = nc.Close()
	}()
	sc := bufio.NewScanner(nc)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		var out string
		switch strings.ToUpper(f[0]) {
		case "STATS":
			b, _ := json.Marshal(s.Stats())
			out = string(b)
		case "DROP":
			name := ""
			if len(f) > 1 {
				name = f[1]
			}
			out = fmt.Sprintf("OK %d", s.Drop(name))
		case "REFUSE": // REFUSE NAME DURATION: the center is down that long
			if len(f) != 3 {
				out = "ERR usage: REFUSE NAME DURATION"
				break
			}
			d, err := time.ParseDuration(f[2])
			if err != nil {
				out = "ERR " + err.Error()
				break
			}
			out = fmt.Sprintf("OK %d", s.Refuse(f[1], d))
		case "RESET":
			s.Reset()
			out = "OK"
		default:
			out = "ERR unknown command " + f[0]
		}
		if _, err := fmt.Fprintln(nc, out); err != nil {
			return
		}
		if s.closed.Load() {
			return
		}
	}
}

// Control sends one command to a simulator's control port and returns its
// answer line (for tests and scripts in other processes).
func Control(addr, cmd string) (string, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	if _, err := fmt.Fprintln(nc, cmd); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(nc).ReadString('\n')
	return strings.TrimSpace(line), err
}

// ControlStats is Control(addr, "STATS") decoded.
func ControlStats(addr string) (Stats, error) {
	line, err := Control(addr, "STATS")
	if err != nil {
		return Stats{}, err
	}
	var st Stats
	err = json.Unmarshal([]byte(line), &st)
	return st, err
}
