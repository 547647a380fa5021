package main

import (
	"errors"
	"fmt"

	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/queue"
	"github.com/m1gw/m1/queue/shmq"
)

// saveOwn moves the named queue's ring into the queue's own file part,
// as its consumer does on a clean stop where save_on_stop is set; it needs
// the consumer stopped. Records a dead consumer took and did not commit
// keep their Redelivered mark.
func (c *cli) saveOwn(name string) error {
	q, err := queues.OpenConsumer(c.cfg, name, nil)
	if err != nil {
		return busy(name, err)
	}
	defer q.Close()
	n, err := q.Save()
	if err != nil {
		return busy(name, fmt.Errorf("queue %s: %w", name, err))
	}
	fmt.Fprintf(c.out, "saved %d records of %s to its file part\n", n, name)
	return nil
}

// saveAll saves, for m1stop once every process has stopped, the ring of
// each queue whose save_on_stop is set: records put after their consumer
// had stopped (RPT gets reports from dbx, which stops after eai_lsnr) are
// then on disk too before a reboot. A queue whose consumer is running is
// passed over and said so; any other failure is returned.
func (c *cli) saveAll() error {
	var errs []error
	for _, qc := range c.cfg.Queues {
		if !qc.SaveOnStop {
			continue
		}
		if o, err := queues.Options(c.cfg, qc.Name, false, nil); err == nil {
			if ok, _ := shmq.Exists(o.Shm.Key); !ok {
				continue // no ring, nothing to save (and none made here)
			}
		}
		q, err := queues.OpenConsumer(c.cfg, qc.Name, nil)
		if errors.Is(err, queue.ErrConsumerBusy) {
			fmt.Fprintf(c.out, "%s: its consumer is running; not saved\n", qc.Name)
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("queue %s: %w", qc.Name, err))
			continue
		}
		n, err := q.Save()
		_ = q.Close()
		switch {
		case errors.Is(err, queue.ErrConsumerBusy):
			fmt.Fprintf(c.out, "%s: its consumer is running; not saved\n", qc.Name)
		case err != nil:
			errs = append(errs, fmt.Errorf("queue %s: %w", qc.Name, err))
		case n > 0:
			fmt.Fprintf(c.out, "saved %d records of %s to its file part\n", n, qc.Name)
		}
	}
	return errors.Join(errs...)
}
