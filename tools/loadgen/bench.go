package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/dupindex"
	"github.com/m1gw/m1/gw/lsnr"
	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
	"github.com/m1gw/m1/queue/shmq"
)

// benchLsnr is an in-process eai_lsnr on real parts: shared-memory DIST and
// RPT queues under random keys (removed at the end), a duplicate index file,
// a temporary M1 home, and a sink that drains the lanes as dist would.
type benchLsnr struct {
	home    string
	keys    []ipc.Key
	qs      []*shmq.Queue
	dup     *dupindex.Index
	l       *lsnr.Listener
	done    chan error
	sinkWG  sync.WaitGroup
	stop    atomic.Bool
	drained atomic.Int64
}

const benchClient, benchPass = "BENCH01", "benchpass"

func startBenchLsnr(laneCap int) (b *benchLsnr, err error) {
	b = &benchLsnr{}
	defer func() {
		if err != nil {
			b.close()
		}
	}()
	b.home, err = os.MkdirTemp("", "m1-loadgen-")
	if err != nil {
		return nil, err
	}
	if err := writeBenchHome(b.home); err != nil {
		return nil, err
	}
	cfg, err := config.Load(b.home)
	if err != nil {
		return nil, err
	}
	open := func(name string, capacity, size int) (*shmq.Queue, error) {
		for {
			k := ipc.Key(0x7e000000 | rand.Int32N(0xffffff))
			if ok, _ := shmq.Exists(k); ok {
				continue
			}
			q, err := shmq.Open(shmq.Options{Name: name, Key: k, Capacity: capacity, RecordSize: size, Create: true})
			if err != nil {
				return nil, err
			}
			b.keys = append(b.keys, k)
			b.qs = append(b.qs, q)
			return q, nil
		}
	}
	lanes := map[byte]queue.Queue{}
	for _, jc := range []byte{'R', 'S', 'B'} {
		q, err := open("DIST."+string(jc), laneCap, config.DefaultRecordSize)
		if err != nil {
			return nil, err
		}
		lanes[jc] = q
	}
	rpt, err := open("RPT", 1024, config.DefaultReportRecordSize)
	if err != nil {
		return nil, err
	}
	b.dup, err = dupindex.Open(dupindex.Options{Path: filepath.Join(b.home, "dup.idx"), Capacity: 1 << 22, Locks: 1 << 16})
	if err != nil {
		return nil, err
	}
	b.l, err = lsnr.New(lsnr.Options{Config: cfg, Log: zap.NewNop(), Lanes: lanes, RPT: rpt, Dup: b.dup,
		Ports: []config.Port{{Listen: "127.0.0.1:0", Mode: config.ModeShared}}, ReportDir: filepath.Join(b.home, "reports")})
	if err != nil {
		return nil, err
	}
	for _, q := range lanes {
		b.sinkWG.Add(1)
		go func() { defer b.sinkWG.Done(); b.sinkLoop(q) }()
	}
	b.done = make(chan error, 1)
	go func() { b.done <- b.l.Main() }()
	return b, nil
}

func (b *benchLsnr) addr() string { return b.l.Addrs()[0].String() }

// sinkLoop takes and commits records in batches, as dist's reader would.
func (b *benchLsnr) sinkLoop(q queue.Queue) {
	var recs []queue.Record
	for !b.stop.Load() {
		recs, _ = q.TakeBatch(recs[:0], 256, 50*time.Millisecond)
		if len(recs) > 0 {
			if err := q.Commit(recs[len(recs)-1].Pos); err == nil {
				b.drained.Add(int64(len(recs)))
			}
		}
	}
}

func (b *benchLsnr) close() {
	if b.l != nil {
		b.l.Exit()
		<-b.done
	}
	b.stop.Store(true)
	b.sinkWG.Wait()
	for _, q := range b.qs {
		_ = q.Close()
	}
	for _, k := range b.keys {
		_ = shmq.Remove(k)
	}
	if b.dup != nil {
		_ = b.dup.Close()
	}
	if b.home != "" {
		_ = os.RemoveAll(b.home)
	}
}

func writeBenchHome(home string) error {
	if err := os.MkdirAll(filepath.Join(home, "etc"), 0o755); err != nil {
		return err
	}
	hash, err := config.HashPasswordIter(benchPass, 1000)
	if err != nil {
		return err
	}
	files := map[string]string{
		"etc/m1.toml": "[eai_lsnr]\ndefault_tps = 1000000\n[[eai_lsnr.port]]\nlisten = \"127.0.0.1:19001\"\nmode = \"shared\"\n" +
			"[[sender]]\nid = \"KT1\"\ncarrier = \"KT\"\ndialect = \"kt\"\nservers = [\"127.0.0.1:17001\"]\nlogin = \"x\"\npassword = \"y\"\n",
		"etc/clients.toml":   fmt.Sprintf("[[client]]\nid = %q\nname = \"bench\"\npassword = %q\ntps = 100000000\n", benchClient, hash),
		"etc/dedicated.conf": "",
		"etc/callbacks.conf": benchClient + " 0215880000\n",
		"etc/pnx.conf":       "default KT\n",
		"etc/routes.toml": "[[route]]\nname = \"kt\"\ncarrier = \"KT\"\nsenders = \"KT1=1\"\n[[route]]\nname = \"skt\"\ncarrier = \"SKT\"\nsenders = \"KT1=1\"\n" +
			"[[route]]\nname = \"lg\"\ncarrier = \"LGT\"\nsenders = \"KT1=1\"\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(home, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}
