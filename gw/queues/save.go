package queues

import (
	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/queue"
)

// SaveOnStop moves what q's ring holds into its file part when the queue's
// configuration asks for it (save_on_stop), for a consumer that stops
// cleanly: a planned reboot then loses nothing, and the records are taken
// first at the next start. Records the consumer took and did not commit go
// too, marked Redelivered (queue/spill's Save). A failure is logged, not
// returned: the records stay in shared memory, as without save_on_stop, and
// the stop goes on.
func SaveOnStop(cfg *config.Config, q queue.Queue, log *zap.Logger) {
	if q == nil {
		return
	}
	qc, ok := cfg.Queue(q.Name())
	if !ok || !qc.SaveOnStop {
		return
	}
	s, ok := q.(interface{ Save() (int, error) })
	if !ok {
		return
	}
	n, err := s.Save()
	if err != nil {
		log.Error("saving the ring to its file part failed; its records stay in shared memory",
			zap.String("queue", q.Name()), zap.Error(err))
		return
	}
	if n > 0 {
		log.Info("ring saved to its file part", zap.String("queue", q.Name()), zap.Int("records", n))
	}
}
