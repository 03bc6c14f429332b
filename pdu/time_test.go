package pdu

import (
	"testing"
	"time"
)

func TestParseTimeSpecExamples(t *testing.T) {
	cases := []struct {
		in   string
		utc  string // RFC 3339 in UTC, for absolute times
		rel  Period
		isRe bool
	}{
		{in: "240315143045622+", utc: "2024-03-15T09:00:45.6Z"},
		{in: "231231235959012-", utc: "2024-01-01T02:59:59Z"},
		{in: "250101000000000+", utc: "2025-01-01T00:00:00Z"},
		{in: "000001120000000R", rel: Period{Days: 1, Hours: 12}, isRe: true},
		{in: "000007000000000R", rel: Period{Days: 7}, isRe: true},
		{in: "000000003000000R", rel: Period{Minutes: 30}, isRe: true},
		{in: "991231235959", utc: "1999-12-31T23:59:59Z"},
	}
	for _, c := range cases {
		got, err := ParseTime(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if c.isRe {
			if got.Relative == nil || *got.Relative != c.rel {
				t.Fatalf("%s: %+v", c.in, got)
			}
			continue
		}
		if s := got.Absolute.UTC().Format("2006-01-02T15:04:05.999Z07:00"); s != c.utc {
			t.Fatalf("%s: %s, want %s", c.in, s, c.utc)
		}
	}
	for _, bad := range []string{"2403151430456", "240315143045622*", "241315143045622+", "240230143045622+", "24031514304562x+", "240315143045649+"} {
		if _, err := ParseTime(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	if tm, err := ParseTime(""); err != nil || !tm.IsZero() {
		t.Fatal("NULL time")
	}
}

func TestFormatTime(t *testing.T) {
	ist := time.FixedZone("IST", 5*3600+30*60)
	if s := FormatAbsolute(time.Date(2024, 3, 15, 14, 30, 45, 600e6, ist)); s != "240315143045622+" {
		t.Fatal(s)
	}
	if s := FormatAbsolute(time.Date(2023, 12, 31, 23, 59, 59, 0, time.FixedZone("", -3*3600))); s != "231231235959012-" {
		t.Fatal(s)
	}
	odd := time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("", 7*60))
	if s := FormatAbsolute(odd); s != "231231235300000+" {
		t.Fatal(s)
	}
	for d, want := range map[time.Duration]string{
		36 * time.Hour:       "000001120000000R",
		30 * time.Minute:     "000000003000000R",
		45 * 24 * time.Hour:  "000115000000000R",
		400 * 24 * time.Hour: "010105000000000R",
	} {
		if s := FormatRelative(d); s != want {
			t.Errorf("%v: %s, want %s", d, s, want)
		}
	}
	// Round trip through the parser.
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for _, d := range []time.Duration{time.Second, 90 * time.Minute, 72 * time.Hour} {
		p, err := ParseTime(FormatRelative(d))
		if err != nil || !p.At(now).Equal(now.Add(d)) {
			t.Fatalf("%v: %v %v", d, p.At(now), err)
		}
	}
}
