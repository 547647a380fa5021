package sender

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/queue"
)

// Sender is one carrier link process's work (nsq shape: New, Main, Exit).
type Sender struct {
	o   Options
	log *zap.Logger

	stop     chan struct{} // closed by Exit
	stopOnce sync.Once
	done     chan struct{} // closed when Main returns
	mainOnce sync.Once

	credit chan struct{}  // one token per record that may be taken: Window in all
	taken  chan []*entry  // take loop → main loop
	fatal  chan error     // take loop → main loop
	wg     sync.WaitGroup // the take loop

	fatalErr error // what ended Main, from the take loop

	takeQuit chan struct{} // closed to stop this generation of the take loop
	released bool          // the queue was given up (release.go); Queue is nil

	tr  *tracker
	seq uint32
}

// New checks the options and returns a sender; Main runs it.
func New(o Options) (*Sender, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	s := &Sender{o: o, log: o.Log.With(zap.String("sender", o.ID)), stop: make(chan struct{}), done: make(chan struct{}),
		credit: make(chan struct{}, o.Window), taken: make(chan []*entry), fatal: make(chan error, 1), tr: newTracker()}
	for i := 0; i < o.Window; i++ {
		s.credit <- struct{}{}
	}
	return s, nil
}

// Main runs the sender until Exit: it keeps the link up, submits, and turns
// the carrier's answers into DBX events. It returns nil after a clean stop.
func (s *Sender) Main() error {
	err := errors.New("sender: Main called twice")
	s.mainOnce.Do(func() { err = s.main() })
	return err
}

func (s *Sender) main() error {
	defer close(s.done)
	s.log.Info("starting", zap.Strings("servers", s.o.Servers), zap.String("dialect", s.o.Dialect.Name()),
		zap.Int("window", s.o.Window), zap.Int("tps", s.o.TPS))
	s.startTaking()
	defer s.wg.Wait()
	defer s.stopOnce.Do(func() { close(s.stop) }) // a failed Main stops the take loop too
	s.o.State.SetLink(false)
	s.o.State.SetWindow(0, s.o.Window)
	backoff := s.o.ReconnectMin
	downSince := time.Now()
	for {
		l, err := s.connect()
		if err != nil {
			if s.stopping() {
				return nil
			}
			s.o.State.AddErr(1)
			s.o.State.SetLastError(err.Error())
			s.log.Warn("no server took the link; waiting", zap.Duration("backoff", backoff), zap.Error(err))
			if err := s.maybeRelease(downSince); err != nil {
				return err
			}
			if !s.sleep(backoff) {
				return s.fatalErr
			}
			backoff = min(2*backoff, s.o.ReconnectMax)
			continue
		}
		if s.released {
			if err := s.reacquire(); err != nil {
				// dist may be taking the backlog right now; the link
				// waits for the queue.
				// dist holds it for one pass at a time: try again soon.
				l.nc.Close()
				s.log.Warn("link up, queue not yet back; trying again", zap.Duration("after", s.o.ReconnectMin), zap.Error(err))
				if !s.sleep(s.o.ReconnectMin) {
					return s.fatalErr
				}
				continue
			}
		}
		backoff = s.o.ReconnectMin
		err = s.serve(l)
		downSince = time.Now()
		if n := s.tr.requeue(); n > 0 {
			s.log.Info("link lost with submits unanswered: they go again on the next link", zap.Int("requeued", n))
		}
		s.o.State.SetLink(false)
		s.o.State.SetWindow(0, s.o.Window)
		var fe *fatalError
		if errors.As(err, &fe) {
			return fe.err
		}
		if s.stopping() {
			if err != nil {
				s.log.Info("stopped", zap.Error(err))
			}
			return nil
		}
		s.o.State.AddErr(1)
		s.o.State.SetLastError(err.Error())
		s.log.Warn("link lost", zap.String("server", l.addr), zap.Error(err))
	}
}

// fatalError ends Main: the queue cannot be read.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }

// Exit stops the sender in daemon order (gw/daemon): stop taking records,
// wait (up to DrainTimeout) for the answers to submits in flight, commit
// what is done, close the link. It returns once Main has.
func (s *Sender) Exit() {
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.done
}

func (s *Sender) stopping() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

// sleep waits d; false when stopped (or the queue failed) meanwhile.
func (s *Sender) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.stop:
		return false
	case s.fatalErr = <-s.fatal:
		return false
	}
}

// startTaking starts a generation of the take loop: at Main's start, and
// when the queue is back after a release.
func (s *Sender) startTaking() {
	quit := make(chan struct{})
	s.takeQuit = quit
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.takeLoop(quit) }()
}

// stopTaking stops the take loop and waits for it. What it had taken and
// not handed over stays taken and uncommitted in the queue.
func (s *Sender) stopTaking() {
	close(s.takeQuit)
	s.wg.Wait()
}

// takeLoop takes records from SND.<ID> while there is credit (the window
// bounds the records taken and not committed) and hands them to Main,
// until stop or quit.
func (s *Sender) takeLoop(quit <-chan struct{}) {
	var recs []queue.Record
	for {
		select {
		case <-s.credit:
		case <-s.stop:
			return
		case <-quit:
			return
		}
		got := 1
		for more := true; more && got < s.o.Window; {
			select {
			case <-s.credit:
				got++
			default:
				more = false
			}
		}
		var err error
		for {
			recs, err = s.o.Queue.TakeBatch(recs[:0], got, 100*time.Millisecond)
			if len(recs) > 0 || !errors.Is(err, queue.ErrEmpty) || s.stopping() || closed(quit) {
				break
			}
		}
		for i := len(recs); i < got; i++ {
			s.credit <- struct{}{}
		}
		if len(recs) == 0 {
			if err != nil && !errors.Is(err, queue.ErrEmpty) {
				select {
				case s.fatal <- fmt.Errorf("sender: queue %s: %w", s.o.Queue.Name(), err):
				default:
				}
				return
			}
			continue
		}
		es := make([]*entry, 0, len(recs))
		for _, r := range recs {
			e := &entry{pos: r.Pos, redelivered: r.Redelivered}
			m, err := msg.DecodeMessage(r.Data)
			if err != nil || m.GWID == "" {
				// Nothing can be sent nor recorded without a message: the
				// record is logged whole and passed over.
				s.log.Error("record in the queue is not a message; passed over", zap.Uint64("pos", r.Pos),
					zap.ByteString("record", r.Data), zap.Error(err))
				s.o.State.AddErr(1)
				e.done = true
			}
			e.m = m
			es = append(es, e)
		}
		select {
		case s.taken <- es:
		case <-s.stop:
			return
		case <-quit:
			return
		}
	}
}
