package main

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
	"github.com/m1gw/m1/queue/fileq"
	"github.com/m1gw/m1/queue/shmq"
)

// queueView is what ls and stat show of one queue.
type queueView struct {
	name    string
	key     ipc.Key
	shm     *ipc.ShmInfo
	semid   int
	st      *queue.Stat
	fileLen int
	problem string
}

func (c *cli) view(name string) (queueView, error) {
	o, err := queues.Options(c.cfg, name, false, nil)
	if err != nil {
		return queueView{}, err
	}
	v := queueView{name: name, key: o.Shm.Key, semid: -1}
	if n, err := fileDepth(o.Dir, o.File); err == nil {
		v.fileLen = n
	} else {
		v.problem = "file part: " + err.Error()
	}
	id, err := ipc.OpenShm(o.Shm.Key, 0)
	if errors.Is(err, ipc.ErrNotExist) {
		return v, nil
	}
	if err != nil {
		v.problem = err.Error()
		return v, nil
	}
	info, err := ipc.StatShm(id)
	if err != nil {
		v.problem = err.Error()
		return v, nil
	}
	v.shm = &info
	q, err := shmq.Open(o.Shm)
	if err != nil {
		v.problem = err.Error()
		return v, nil
	}
	defer q.Close()
	_, v.semid = q.IDs()
	st, err := q.Stat()
	if err != nil {
		v.problem = err.Error()
		return v, nil
	}
	v.st = &st
	return v, nil
}

// fileDepth counts the records of a file part without creating it.
func fileDepth(dir string, o fileq.Options) (int, error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	f, err := fileq.Open(dir, o, nil)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return f.Len(), nil
}

func (c *cli) ls() error {
	tw := tabwriter.NewWriter(c.out, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "name\tkey\tshmid\tsemid\towner\tperms\tcapacity\tused\tin-flight\tfile\tconsumer\toldest\tput\tgot\t")
	var problems []string
	for _, name := range queues.Names(c.cfg) {
		v, err := c.view(name)
		if err != nil {
			return err
		}
		if v.problem != "" {
			problems = append(problems, fmt.Sprintf("%s: %s", name, v.problem))
		}
		if v.shm == nil {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t-\t-\t-\t%d\t-\t-\t-\t-\t\n", name, v.key, v.fileLen)
			continue
		}
		capacity, used, inflight, cons, oldest, put, got := "?", "?", "?", "-", "-", "?", "?"
		if st := v.st; st != nil {
			capacity, used, inflight = strconv.Itoa(st.Capacity), strconv.Itoa(st.Len()), strconv.Itoa(st.InFlight())
			put, got = strconv.FormatUint(st.Puts, 10), strconv.FormatUint(st.Gets, 10)
			if st.ConsumerPID != 0 {
				cons = fmt.Sprintf("%d(%s)", st.ConsumerPID, map[bool]string{true: "alive", false: "dead"}[st.ConsumerAlive])
			}
			if !st.Oldest.IsZero() {
				oldest = age(time.Since(st.Oldest))
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%o\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t\n", name, v.key, v.shm.ID, v.semid,
			owner(v.shm.UID), v.shm.Mode, capacity, used, inflight, v.fileLen, cons, oldest, put, got)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(c.err, "ipcq: warning:", p)
	}
	return nil
}

func (c *cli) stat(name string) error {
	v, err := c.view(name)
	if err != nil {
		return err
	}
	q, _ := c.cfg.Queue(name)
	p := func(k string, val any) { fmt.Fprintf(c.out, "%-14s %v\n", k, val) }
	p("name", name)
	p("key", v.key)
	p("full policy", q.Full)
	p("durability", q.Durability)
	p("file dir", q.FileDir)
	p("file depth", v.fileLen)
	if v.shm == nil {
		p("segment", "none (writers go to the file part; `ipcq create "+name+"` makes it)")
		return nil
	}
	p("shmid", v.shm.ID)
	p("semid", v.semid)
	p("owner", owner(v.shm.UID))
	p("perms", fmt.Sprintf("%o", v.shm.Mode))
	p("bytes", v.shm.Size)
	p("attached", v.shm.Nattch)
	if v.problem != "" {
		return fmt.Errorf("queue %s: %s", name, v.problem)
	}
	st := v.st
	p("capacity", st.Capacity)
	p("record size", st.RecordSize)
	p("used", st.Len())
	p("in-flight", st.InFlight())
	p("positions", fmt.Sprintf("commit %d  head %d  tail %d", st.Commit, st.Head, st.Tail))
	p("put", st.Puts)
	p("got", st.Gets)
	p("committed", st.Commits)
	p("redelivered", st.Redelivered)
	p("full events", st.FullEvents)
	p("corrupt", st.Corrupt)
	p("created", st.Created.Format(time.DateTime))
	if st.ConsumerPID != 0 {
		p("consumer", fmt.Sprintf("pid %d (%s)", st.ConsumerPID, map[bool]string{true: "alive", false: "dead"}[st.ConsumerAlive]))
	} else {
		p("consumer", "none")
	}
	if !st.Oldest.IsZero() {
		p("oldest", age(time.Since(st.Oldest)))
	}
	o, _ := queues.Options(c.cfg, name, false, nil)
	if sq, err := shmq.Open(o.Shm); err == nil {
		if sv, err := sq.SemValues(); err == nil {
			p("semaphores", fmt.Sprintf("mutex %d  notEmpty %d  notFull %d", sv[0], sv[1], sv[2]))
		}
		p("spilling", sq.Spilling())
		sq.Close()
	}
	return nil
}

func (c *cli) ps() error {
	tab, err := queues.ProcTab(c.cfg, false, nil)
	if errors.Is(err, ipc.ErrNotExist) {
		fmt.Fprintln(c.out, "no process table (no M1 process has started)")
		return nil
	}
	if err != nil {
		return fmt.Errorf("process table: %w", err)
	}
	defer tab.Close()
	tw := tabwriter.NewWriter(c.out, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "name\trole\tpid\tstate\talive\tuptime\theartbeat\tin\tout\terrors\tlink\twindow\tlast error\t")
	for _, e := range tab.List() {
		link, window := "-", "-"
		if e.HasLink {
			link = map[bool]string{true: "up", false: "down"}[e.LinkUp]
			window = fmt.Sprintf("%d/%d", e.WindowUsed, e.WindowSize)
		}
		alive := map[bool]string{true: "yes", false: "DEAD"}[e.Alive]
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s ago\t%d\t%d\t%d\t%s\t%s\t%s\t\n", e.Name, e.Role, e.PID, e.State, alive,
			age(time.Since(e.Started)), age(time.Since(e.Heartbeat)), e.In, e.Out, e.Errors, link, window, e.LastError)
	}
	return tw.Flush()
}

func owner(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	return strconv.Itoa(uid)
}

func age(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.0fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%.0fm", d.Minutes())
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1fh", d.Hours())
	}
	return fmt.Sprintf("%.0fd", d.Hours()/24)
}
