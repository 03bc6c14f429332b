package text

import (
	"fmt"
	"testing"
	"unicode/utf8"
)

// Expected contents of every 7-bit table, position by position, as given in
// 3GPP TS 23.038 (checked against the Release 8+ tables). Each table is
// eight rows of sixteen runes; row i holds septets 0xi0 to 0xiF, so the spec
// figures (whose columns are the high nibble) appear here transposed.
//
// In the locking-shift (main) tables '\x1b' is the escape to the extension
// table. In the single-shift (extension) tables '·' marks a position the
// spec leaves undefined, including 0x0D (CR2, reserved) and 0x1B (SS2,
// reserved for a further extension table); no table defines '·' itself.
const specEmpty = '·'

var specTables = []struct {
	name    string
	section string
	lock    bool
	lang    Language
	rows    [8]string
}{
	{"default alphabet", "§6.2.1", true, LangDefault, [8]string{
		"@£$¥èéùìòÇ\nØø\rÅå",  // 0x00
		"Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ", // 0x10
		" !\"#¤%&'()*+,-./",   // 0x20
		"0123456789:;<=>?",    // 0x30
		"¡ABCDEFGHIJKLMNO",    // 0x40
		"PQRSTUVWXYZÄÖÑÜ§",    // 0x50
		"¿abcdefghijklmno",    // 0x60
		"pqrstuvwxyzäöñüà",    // 0x70
	}},
	{"default extension", "§6.2.1.1", false, LangDefault, [8]string{
		"··········\f·····", // 0x00
		"····^···········",  // 0x10
		"········{}·····\\", // 0x20
		"············[~]·",  // 0x30
		"|···············",  // 0x40
		"················",  // 0x50
		"·····€··········",  // 0x60
		"················",  // 0x70
	}},
	{"Turkish single shift", "Annex A.2.1", false, LangTurkish, [8]string{
		"··········\f·····", // 0x00
		"····^···········",  // 0x10
		"········{}·····\\", // 0x20
		"············[~]·",  // 0x30
		"|······Ğ·İ······",  // 0x40
		"···Ş············",  // 0x50
		"···ç·€·ğ·ı······",  // 0x60
		"···ş············",  // 0x70
	}},
	{"Spanish single shift", "Annex A.2.2", false, LangSpanish, [8]string{
		"·········ç\f·····", // 0x00
		"····^···········",  // 0x10
		"········{}·····\\", // 0x20
		"············[~]·",  // 0x30
		"|Á·······Í·····Ó",  // 0x40
		"·····Ú··········",  // 0x50
		"·á···€···í·····ó",  // 0x60
		"·····ú··········",  // 0x70
	}},
	{"Portuguese single shift", "Annex A.2.3", false, LangPortuguese, [8]string{
		"·····ê···ç\fÔô·Áá", // 0x00
		"··ΦΓ^ΩΠΨΣΘ·····Ê",  // 0x10
		"········{}·····\\", // 0x20
		"············[~]·",  // 0x30
		"|À·······Í·····Ó",  // 0x40
		"·····Ú·····ÃÕ···",  // 0x50
		"·Â···€···í·····ó",  // 0x60
		"·····ú·····ãõ··â",  // 0x70
	}},
	{"Turkish locking shift", "Annex A.3.1", true, LangTurkish, [8]string{
		"@£$¥€éùıòÇ\nĞğ\rÅå",  // 0x00
		"Δ_ΦΓΛΩΠΨΣΘΞ\x1bŞşßÉ", // 0x10
		" !\"#¤%&'()*+,-./",   // 0x20
		"0123456789:;<=>?",    // 0x30
		"İABCDEFGHIJKLMNO",    // 0x40
		"PQRSTUVWXYZÄÖÑÜ§",    // 0x50
		"çabcdefghijklmno",    // 0x60
		"pqrstuvwxyzäöñüà",    // 0x70
	}},
	// Annex A.3.2 (Spanish locking shift) is not defined: Spanish uses the
	// default alphabet as its main table.
	{"Portuguese locking shift", "Annex A.3.3", true, LangPortuguese, [8]string{
		"@£$¥êéúíóç\nÔô\rÁá",   // 0x00
		"Δ_ªÇÀ∞^\\€Ó|\x1bÂâÊÉ", // 0x10
		" !\"#º%&'()*+,-./",    // 0x20
		"0123456789:;<=>?",     // 0x30
		"ÍABCDEFGHIJKLMNO",     // 0x40
		"PQRSTUVWXYZÃÕÚÜ§",     // 0x50
		"~abcdefghijklmno",     // 0x60
		"pqrstuvwxyzãõ`üà",     // 0x70
	}},
}

func specTable(t *testing.T, rows [8]string) (want [128]rune) {
	t.Helper()
	for hi, row := range rows {
		if n := utf8.RuneCountInString(row); n != 16 {
			t.Fatalf("row 0x%X0 has %d runes, want 16", hi, n)
		}
		lo := 0
		for _, r := range row {
			if r != specEmpty {
				want[hi*16+lo] = r
			}
			lo++
		}
	}
	return want
}

func showRune(r rune) string {
	if r == 0 {
		return "(undefined)"
	}
	return fmt.Sprintf("%q U+%04X", r, r)
}

// TestNationalTablesAgainstSpec checks every position of the default
// alphabet, its extension table and each national locking-shift and
// single-shift table against TS 23.038, so that any wrong, missing or
// extra entry fails.
func TestNationalTablesAgainstSpec(t *testing.T) {
	for _, tc := range specTables {
		t.Run(tc.name, func(t *testing.T) {
			want := specTable(t, tc.rows)
			var got *[128]rune
			if tc.lock {
				got = locking(tc.lang)
			} else {
				got = single(tc.lang)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("%s (TS 23.038 %s) septet 0x%02X = %s, want %s",
						tc.name, tc.section, i, showRune(got[i]), showRune(want[i]))
				}
			}
		})
	}
	if HasLockingShift(LangSpanish) {
		t.Error("Spanish has a locking-shift table; TS 23.038 Annex A.3 defines none")
	}
	if got := locking(LangSpanish); got != &defaultAlphabet {
		t.Error("Spanish locking shift does not fall back to the default alphabet")
	}
}
