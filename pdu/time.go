package pdu

import (
	"fmt"
	"time"
)

// Time is a decoded SMPP time field (schedule_delivery_time, validity_period,
// final_date): absolute, relative, or NULL (both zero).
type Time struct {
	// Absolute is the moment, in a fixed zone with the field's UTC offset;
	// zero for a relative or NULL time.
	Absolute time.Time
	// Relative is set for a relative time ("…R").
	Relative *Period
}

// IsZero reports whether the time was NULL.
func (t Time) IsZero() bool { return t.Absolute.IsZero() && t.Relative == nil }

// At resolves the time against now: an absolute time as it is, a relative
// one added to now (by calendar for years and months), NULL as the zero time.
func (t Time) At(now time.Time) time.Time {
	if t.Relative != nil {
		return t.Relative.AddTo(now)
	}
	return t.Absolute
}

// Period is a relative SMPP time: an offset in calendar units.
type Period struct {
	Years, Months, Days, Hours, Minutes, Seconds int
}

// AddTo returns t plus the period.
func (p Period) AddTo(t time.Time) time.Time {
	return t.AddDate(p.Years, p.Months, p.Days).Add(
		time.Duration(p.Hours)*time.Hour + time.Duration(p.Minutes)*time.Minute + time.Duration(p.Seconds)*time.Second)
}

// Duration approximates the period, counting a year as 365 days and a month
// as 30.
func (p Period) Duration() time.Duration {
	days := p.Years*365 + p.Months*30 + p.Days
	return time.Duration(days)*24*time.Hour + time.Duration(p.Hours)*time.Hour +
		time.Duration(p.Minutes)*time.Minute + time.Duration(p.Seconds)*time.Second
}

// ParseTime parses an SMPP time field: "" (NULL), "YYMMDDhhmmsstnnp" with p
// '+' or '-' (absolute, nn quarter hours from UTC) or 'R' (relative), and
// the 12-character "YYMMDDhhmmss" local form some v3.4 MCs report (read as
// UTC). Two-digit years follow the v3.4 rule: 38–99 are 1938–1999.
func ParseTime(s string) (Time, error) {
	switch len(s) {
	case 0:
		return Time{}, nil
	case 12, 16:
	default:
		return Time{}, fmt.Errorf("pdu: SMPP time %q: want 16 characters", s)
	}
	var v [7]int
	for i := 0; i < 6; i++ {
		n, ok := digits(s[2*i : 2*i+2])
		if !ok {
			return Time{}, fmt.Errorf("pdu: SMPP time %q: non-digit in position %d", s, 2*i+1)
		}
		v[i] = n
	}
	if len(s) == 12 {
		return absolute(s, v, 0, 0)
	}
	tenths, ok1 := digits(s[12:13])
	nn, ok2 := digits(s[13:15])
	if !ok1 || !ok2 {
		return Time{}, fmt.Errorf("pdu: SMPP time %q: non-digit in tenths or offset", s)
	}
	switch s[15] {
	case 'R':
		return Time{Relative: &Period{v[0], v[1], v[2], v[3], v[4], v[5]}}, nil
	case '+':
		return absolute(s, v, tenths, nn)
	case '-':
		return absolute(s, v, tenths, -nn)
	}
	return Time{}, fmt.Errorf("pdu: SMPP time %q: last character must be '+', '-' or 'R'", s)
}

func absolute(s string, v [7]int, tenths, quarters int) (Time, error) {
	if v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 59 || quarters > 48 || quarters < -48 {
		return Time{}, fmt.Errorf("pdu: SMPP time %q: field out of range", s)
	}
	year := 2000 + v[0]
	if v[0] >= 38 {
		year = 1900 + v[0]
	}
	zone := time.UTC
	if quarters != 0 {
		zone = time.FixedZone("", quarters*15*60)
	}
	t := time.Date(year, time.Month(v[1]), v[2], v[3], v[4], v[5], tenths*1e8, zone)
	if t.Day() != v[2] {
		return Time{}, fmt.Errorf("pdu: SMPP time %q: no such day", s)
	}
	return Time{Absolute: t}, nil
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// FormatAbsolute formats t as an absolute SMPP time in t's own zone. A zone
// offset that is not a whole number of quarter hours is written as UTC.
func FormatAbsolute(t time.Time) string {
	_, off := t.Zone()
	if off%(15*60) != 0 || off > 48*15*60 || off < -48*15*60 {
		t, off = t.UTC(), 0
	}
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%02d%02d%02d%02d%02d%02d%d%02d%c", t.Year()%100, int(t.Month()), t.Day(),
		t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/1e8, off/(15*60), sign)
}

// FormatRelative formats d as a relative SMPP time. Whole days go into the
// days field while they fit its two digits' usual range (31); longer periods
// carry into 30-day months and 365-day years. Durations under a second, and
// negative ones, give "000000000000000R".
func FormatRelative(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	secs := int64(d / time.Second)
	days := secs / 86400
	secs %= 86400
	years := days / 365
	days %= 365
	var months int64
	if days > 31 {
		months, days = days/30, days%30
	}
	if years > 99 {
		years, months, days = 99, 11, 30
	}
	return fmt.Sprintf("%02d%02d%02d%02d%02d%02d000R", years, months, days, secs/3600, secs%3600/60, secs%60)
}
