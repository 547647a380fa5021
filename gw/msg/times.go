package msg

import "time"

// TimeLayout is the Go layout of the YYYYMMDDhhmmss times of every record.
const TimeLayout = "20060102150405"

// AppendTime appends t as YYYYMMDDhhmmss in the gateway's local time.
func AppendTime(dst []byte, t time.Time) []byte { return t.Local().AppendFormat(dst, TimeLayout) }

// FormatTime is t as YYYYMMDDhhmmss in local time; "" for the zero time.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format(TimeLayout)
}

// ParseTime parses YYYYMMDDhhmmss in local time; "" is the zero time.
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.ParseInLocation(TimeLayout, s, time.Local)
}
