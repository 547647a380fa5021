package main

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/layout"
	"github.com/m1gw/m1/gw/msg"
)

// writeSpool writes a bulk file of n records into the spool directory and
// hands it over as docs/SPOOL.md says: the file whole, then NAME.done.
func writeSpool(cfg *config.Config, o Options, out io.Writer) error {
	dir := cfg.TkmFiles.SpoolDir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	name := fmt.Sprintf("bulk.%s.%d", time.Now().Format("20060102150405"), os.Getpid())
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	text, _ := layout.ToEUCKR("[M1] 대량 발송 안내 메시지입니다")
	var buf []byte
	for i := 0; i < o.N; i++ {
		b := msg.Bulk{ClientID: o.Client, MsgKey: fmt.Sprintf("%s%d", o.Prefix, i), MsgType: 'S', JobClass: 'B',
			Callback: o.Callback, Dest: fmt.Sprintf("010%08d", rand.IntN(100000000)), Text: string(text)}
		buf = append(b.Encode(buf[:0]), '\n')
		if _, err := w.Write(buf); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(path+".done", nil, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "spooled %d records for %s as %s\n", o.N, o.Client, path)
	return nil
}
