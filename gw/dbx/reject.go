package dbx

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/store"
)

// reject sets a record aside that can never be applied: it is appended to
// the rejects file (one line: time, reason, the record in base64), synced,
// and logged, so the batch around it goes on and an operator can look at
// it, mend it and queue it again. Losing it silently is not an option; a
// rejects file that cannot be written is logged with the record itself.
func (d *DBX) reject(rec []byte, why error) {
	d.stats.rejected.Add(1)
	if d.slot != nil {
		d.slot.AddErr(1)
		d.slot.SetLastError("record set aside: " + why.Error())
	}
	line := fmt.Sprintf("%s\t%q\t%s\n", store.FormatTime(d.now()), why.Error(), base64.StdEncoding.EncodeToString(rec))
	if err := appendSync(d.opts.RejectsPath, line); err != nil {
		d.log.Error("record set aside; the rejects file cannot be written, so here it is",
			zap.String("rejects", d.opts.RejectsPath), zap.NamedError("write_error", err),
			zap.String("record_base64", base64.StdEncoding.EncodeToString(rec)), zap.Error(why))
		return
	}
	d.log.Error("record set aside in the rejects file", zap.String("rejects", d.opts.RejectsPath), zap.Error(why))
}

func appendSync(path, line string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(line); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
