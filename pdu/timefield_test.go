package pdu

import (
	"errors"
	"testing"
)

// Fault 9: strict decoding checks the content of time fields, and accepts the
// 12-character form only in final_date (as the README says); Lenient takes
// anything, and encoding refuses what strict decoding refuses.
func TestTimeFieldsStrict(t *testing.T) {
	submit := func(sched, validity string) []byte {
		// Built by hand: the encoder may refuse these.
		b := []byte{0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
		b = append(b, sched...)
		b = append(b, 0)
		b = append(b, validity...)
		b = append(b, 0, 0, 0, 0, 0, 0)
		n := len(b)
		b[0], b[1], b[2], b[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
		return b
	}
	for _, c := range []struct {
		sched, validity string
		want            Status // ESME_ROK: accepted
	}{
		{"", "", ESME_ROK},
		{"261122120000004+", "000001000000000R", ESME_ROK},
		{"261122120000004-", "", ESME_ROK},
		{"", "261122120000", ESME_RINVEXPIRY},     // 12 characters: final_date only
		{"261122120000", "", ESME_RINVSCHED},      // likewise
		{"", "99999999999999ZZ", ESME_RINVEXPIRY}, // not digits, no valid suffix
		{"", "0000010000000 0R", ESME_RINVEXPIRY}, // a space among the digits
		{"26112212000000+R", "", ESME_RINVSCHED},  // '+' in the offset
		{"261122120000000X", "", ESME_RINVSCHED},  // bad suffix
		{"261322120000000+", "", ESME_RINVSCHED},  // month 13
		{"260230120000000+", "", ESME_RINVSCHED},  // 30 February
		{"261122250000000+", "", ESME_RINVSCHED},  // hour 25
		{"261122126000000+", "", ESME_RINVSCHED},  // minute 60
		{"261122120000049+", "", ESME_RINVSCHED},  // 49 quarter hours from UTC
		{"", "0000010000000000", ESME_RINVEXPIRY}, // no suffix at all
		{"", "00000100000000R", ESME_RINVEXPIRY},  // 15 characters
		{"240229120000000+", "", ESME_ROK},        // a leap day
	} {
		b := submit(c.sched, c.validity)
		_, err := Decode(b)
		var e *Error
		switch {
		case c.want == ESME_ROK && err != nil:
			t.Errorf("%q %q: %v", c.sched, c.validity, err)
		case c.want != ESME_ROK && (!errors.As(err, &e) || e.Status != c.want):
			t.Errorf("%q %q: got %v, want %v", c.sched, c.validity, err, c.want)
		}
		if _, err := (DecodeOptions{Lenient: true}).Decode(b); err != nil {
			t.Errorf("%q %q lenient: %v", c.sched, c.validity, err)
		}
		p := &SubmitSM{ScheduleDeliveryTime: c.sched, ValidityPeriod: c.validity}
		if _, err := Marshal(p); (err == nil) != (c.want == ESME_ROK) {
			t.Errorf("%q %q: encoding gives %v", c.sched, c.validity, err)
		}
	}
	// final_date may have the 12-character form; its content is checked too.
	for _, c := range []struct {
		final string
		ok    bool
	}{{"261122120000", true}, {"261122120000004+", true}, {"26112212000a", false}, {"261122129900", false}} {
		p := &QuerySMResp{MessageID: "1", FinalDate: c.final}
		b, err := Marshal(p)
		if (err == nil) != c.ok {
			t.Errorf("final_date %q: encoding gives %v", c.final, err)
			continue
		}
		if !c.ok {
			continue
		}
		if _, err := Decode(b); err != nil {
			t.Errorf("final_date %q: %v", c.final, err)
		}
	}
}
