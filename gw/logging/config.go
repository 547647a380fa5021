package logging

import (
	"go.uber.org/zap/zapcore"

	"github.com/m1gw/m1/gw/config"
)

// ForProcess opens the logger of a process as the configuration says: its
// directory, format, and the level of the process (log.levels, then
// log.level).
func ForProcess(c *config.Config, process string, tee zapcore.WriteSyncer) (*Logger, error) {
	return New(Options{
		Dir:     c.Paths.Log,
		Process: process,
		Format:  c.Log.Format,
		Level:   c.Log.LevelFor(process),
		Tee:     tee,
	})
}
