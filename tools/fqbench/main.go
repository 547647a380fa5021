// Command fqbench measures the file queue (queue/fileq) with each
// durability option against a raw baseline written here: append to one
// file and fdatasync, with the same bytes per record and the same records
// per fdatasync as the queue case it is set beside.
//
// Cases, for each record size (default 128 B and 1 KB):
//
//	every  1 producer Put, SyncEvery        vs raw: write + fdatasync per record
//	group  N producers Put, SyncGroup       vs raw: one write + one fdatasync per B
//	                                           records, B = the queue's measured
//	                                           mean records per fdatasync (rounded)
//	group-pipelined  2N producers, SyncGroup with GroupRecords N
//	                                        vs raw as for group
//	none   1 producer Put, SyncNone         vs raw: one write per record, no sync
//
// Why group-pipelined: each producer has one Put outstanding, so in the
// group case, after a sync answers all N producers, the next sync waits
// until they are scheduled and Put again; the raw writer never waits. With
// 2N producers and at most N records per sync, one half Puts while the
// other half's sync runs, so the disk need not wait for producers.
//
// Each case runs --rounds times, each run followed at once by its baseline,
// so that a noisy neighbour on the disk hits both alike. records/s are the
// medians of the runs and ratio is the ratio of those medians (the figure
// of the last line). "paired ratio" shows the spread of each run's ratio to
// the baseline run right after it: on a shared disk a single pair can be
// off by a factor of several, so read the ratio beside that spread.
//
// Each queue case runs a consumer beside the producers (TakeBatch of 256,
// Commit when 1024 records are uncommitted or 10 ms after its last commit),
// so the figure includes the consumer's reads and position writes (each an
// fdatasync of the position file and one of the directory). records/s is
// the producers' acknowledged records per second. The raw baseline writes
// frames of the queue's size (record + 28-byte header) from one goroutine,
// with no consumer. The last line is
//
//	fileq: group=<records/s> raw=<records/s> group/raw=<ratio>
//
// for 1 KB records at the same batch.
//
// --dir must be on the disk to measure (the default is the current
// directory; a tmpfs /tmp would make every fdatasync free). --consumer=false
// and --group-interval are for experiments.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/m1gw/m1/queue"
	"github.com/m1gw/m1/queue/fileq"
)

// The benchmark's consumer commits when this many records are uncommitted
// or this long after its last commit, as a sender committing what its
// carrier acknowledged would.
const (
	commitRecords = 1024
	commitEvery   = 10 * time.Millisecond
)

var (
	groupInterval time.Duration
	withConsumer  bool
)

// frameOverhead is the file queue's per-record header (see queue/fileq).
const frameOverhead = 28

func main() {
	dir := pflag.String("dir", ".", "directory on the disk to measure (a temporary directory is made in it)")
	dur := pflag.Duration("duration", 500*time.Millisecond, "time per run of a case")
	rounds := pflag.Int("rounds", 7, "runs of each case, alternating with its baseline; the median is shown")
	producers := pflag.Int("producers", 16, "producer goroutines in the group case")
	sizes := pflag.IntSlice("sizes", []int{128, 1024}, "record sizes in bytes")
	pflag.BoolVar(&withConsumer, "consumer", true, "run a consumer beside the producers")
	pflag.DurationVar(&groupInterval, "group-interval", 0, "fileq GroupInterval (0: the default)")
	pflag.Parse()
	err := run(*dir, *dur, *rounds, *producers, *sizes)
	if err == nil {
		err = spillReport(*dir, *dur, *producers)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fqbench:", err)
		os.Exit(1)
	}
}

type row struct {
	name      string
	size      int
	producers int
	batch     float64
	rate      float64
	base      string
	baseRate  float64
	ratios    []float64 // each run's ratio to the baseline run right after it
}

func run(base string, d time.Duration, rounds, producers int, sizes []int) error {
	tmp, err := os.MkdirTemp(base, "fqbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	n := 0
	next := func() string { n++; return filepath.Join(tmp, fmt.Sprint(n)) }

	// pair runs the queue case and its baseline alternately, rounds times,
	// so that a noisy neighbour on the disk hits both alike, and returns
	// the medians.
	pair := func(dur fileq.Durability, size, producers, groupRecords, fixedBatch int) (q, raw float64, ratios []float64, batch float64, rawBatch int, err error) {
		var qs, rs, bs []float64
		for range rounds {
			r, b, err := queueCase(next(), dur, size, producers, groupRecords, d)
			if err != nil {
				return 0, 0, nil, 0, 0, err
			}
			rb := fixedBatch
			if rb < 0 {
				rb = max(1, int(b+0.5))
			}
			raw, err := rawCase(next(), size, rb, d)
			if err != nil {
				return 0, 0, nil, 0, 0, err
			}
			qs, rs, bs, ratios = append(qs, r), append(rs, raw), append(bs, b), append(ratios, r/raw)
			rawBatch = rb
		}
		mb := median(bs)
		if fixedBatch < 0 {
			rawBatch = max(1, int(mb+0.5))
		}
		return median(qs), median(rs), ratios, mb, rawBatch, nil
	}

	var rows []row
	var groupKB, rawKB float64
	for _, size := range sizes {
		q, raw, ratio, _, _, err := pair(fileq.SyncEvery, size, 1, 0, 1)
		if err != nil {
			return err
		}
		rows = append(rows, row{"every", size, 1, 1, q, "raw write+fdatasync/1", raw, ratio})

		q, raw, ratio, batch, rb, err := pair(fileq.SyncGroup, size, producers, 0, -1)
		if err != nil {
			return err
		}
		rows = append(rows, row{"group", size, producers, batch, q, fmt.Sprintf("raw write+fdatasync/%d", rb), raw, ratio})
		if size == 1024 {
			groupKB, rawKB = q, raw
		}

		q, raw, ratio, batch, rb, err = pair(fileq.SyncGroup, size, 2*producers, producers, -1)
		if err != nil {
			return err
		}
		rows = append(rows, row{"group-pipelined", size, 2 * producers, batch, q, fmt.Sprintf("raw write+fdatasync/%d", rb), raw, ratio})

		q, raw, ratio, _, _, err = pair(fileq.SyncNone, size, 1, 0, 0)
		if err != nil {
			return err
		}
		rows = append(rows, row{"none", size, 1, 0, q, "raw write, no sync", raw, ratio})

		var refs []float64
		for range rounds {
			r, err := rawCase(next(), size, 100, d)
			if err != nil {
				return err
			}
			refs = append(refs, r)
		}
		rows = append(rows, row{"(reference)", size, 1, 100, 0, "raw write+fdatasync/100", median(refs), nil})
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\tsize\tproducers\trec/sync\trecords/s\tbaseline\tbaseline records/s\tratio\tpaired ratio (min med max)\t")
	for _, r := range rows {
		batch, rate, ratio, paired := "-", "-", "-", "-"
		if r.batch > 0 {
			batch = fmt.Sprintf("%.1f", r.batch)
		}
		if r.rate > 0 {
			rate = fmt.Sprintf("%.0f", r.rate)
			ratio = fmt.Sprintf("%.2f", r.rate/r.baseRate)
			paired = fmt.Sprintf("%.2f %.2f %.2f", slices.Min(r.ratios), median(r.ratios), slices.Max(r.ratios))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%.0f\t%s\t%s\t\n", r.name, r.size, r.producers, batch, rate, r.base, r.baseRate, ratio, paired)
	}
	tw.Flush()
	if groupKB > 0 {
		fmt.Printf("fileq: group=%.0f raw=%.0f group/raw=%.2f\n", groupKB, rawKB, groupKB/rawKB)
	}
	return nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// queueCase runs producers Putting size-byte records and one consumer for
// d, and returns acknowledged records/s and the mean records per sync.
func queueCase(dir string, dur fileq.Durability, size, producers, groupRecords int, d time.Duration) (float64, float64, error) {
	opts := fileq.Options{Name: "BENCH", RecordSize: size, Durability: dur, GroupInterval: groupInterval, GroupRecords: groupRecords}
	p, err := fileq.Open(dir, opts, zap.NewNop())
	if err != nil {
		return 0, 0, err
	}
	defer p.Close()
	opts.Consumer = true
	c, err := fileq.Open(dir, opts, zap.NewNop())
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()

	var stop, producersDone atomic.Bool
	var puts atomic.Int64
	var perr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	data := make([]byte, size)
	start := time.Now()
	for range producers {
		wg.Go(func() {
			for !stop.Load() {
				if err := p.Put(data, 0); err != nil {
					errOnce.Do(func() { perr = err })
					return
				}
				puts.Add(1)
			}
		})
	}
	var consumed int64
	var cerr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		if !withConsumer {
			return
		}
		var last uint64
		pending := 0
		lastCommit := time.Now()
		for {
			recs, err := c.TakeBatch(nil, 256, 5*time.Millisecond)
			if len(recs) > 0 {
				consumed += int64(len(recs))
				pending += len(recs)
				last = recs[len(recs)-1].Pos
			}
			if pending > 0 && (pending >= commitRecords || time.Since(lastCommit) >= commitEvery || producersDone.Load()) {
				if err := c.Commit(last); err != nil {
					cerr = err
					return
				}
				pending, lastCommit = 0, time.Now()
			}
			if len(recs) > 0 {
				continue
			}
			if producersDone.Load() && pending == 0 {
				return
			}
			if err != nil && !errors.Is(err, queue.ErrEmpty) {
				cerr = err
				return
			}
		}
	}()
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	el := time.Since(start)
	producersDone.Store(true)
	<-done
	if perr != nil {
		return 0, 0, perr
	}
	if cerr != nil {
		return 0, 0, cerr
	}
	n := puts.Load()
	batch := 0.0
	if s := p.Syncs(); s > 0 {
		batch = float64(n) / float64(s)
	}
	if withConsumer && consumed != n {
		fmt.Fprintf(os.Stderr, "fqbench: %s %dB: consumer took %d of %d records in the time\n", dur, size, consumed, n)
	}
	return float64(n) / el.Seconds(), batch, nil
}

// rawCase appends frames of size+28 bytes to one file from one goroutine,
// batch frames per write followed by one fdatasync (batch 0: one write per
// frame, never synced), for d; it returns records/s.
func rawCase(dir string, size, batch int, d time.Duration) (float64, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "raw"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	per := max(batch, 1)
	buf := make([]byte, per*(size+frameOverhead))
	var n int64
	start := time.Now()
	for time.Since(start) < d {
		if _, err := f.Write(buf); err != nil {
			return 0, err
		}
		if batch > 0 {
			if err := unix.Fdatasync(int(f.Fd())); err != nil {
				return 0, err
			}
		}
		n += int64(per)
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
