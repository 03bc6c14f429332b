package text

// GSM 03.38 / 3GPP TS 23.038 7-bit alphabets: the default alphabet, its
// extension table, and the national language locking-shift and single-shift
// tables. Tables are indexed by septet value; 0 in an extension table marks
// a position the table leaves undefined.

// Language identifies a national language table of TS 23.038 §6.2.1.2.4, as
// carried in the UDH information elements 0x24 (single shift) and 0x25
// (locking shift). LangDefault means the default alphabet / extension table.
type Language uint8

// National languages with tables in this package.
const (
	LangDefault    Language = 0
	LangTurkish    Language = 1
	LangSpanish    Language = 2
	LangPortuguese Language = 3
)

// maxLang is the highest Language with tables.
const maxLang = LangPortuguese

// String returns the language's English name.
func (l Language) String() string {
	switch l {
	case LangDefault:
		return "default"
	case LangTurkish:
		return "Turkish"
	case LangSpanish:
		return "Spanish"
	case LangPortuguese:
		return "Portuguese"
	}
	return "language(" + itoa(int(l)) + ")"
}

const esc = 0x1B

// defaultAlphabet is the GSM 7-bit default alphabet (TS 23.038 §6.2.1).
// Position 0x1B is the escape to the extension table.
var defaultAlphabet = [128]rune{
	'@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
	'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', 0x1B, 'Æ', 'æ', 'ß', 'É',
	' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
	'¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
	'¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
}

// extTable builds an extension (single-shift) table from position/rune pairs.
func extTable(pairs ...any) (t [128]rune) {
	for i := 0; i < len(pairs); i += 2 {
		t[pairs[i].(int)] = pairs[i+1].(rune)
	}
	return t
}

// Entries common to the default extension table and every national single
// shift table of Release 8: form feed and the ten "escape characters".
var commonExt = []any{
	0x0A, '\f', 0x14, '^', 0x28, '{', 0x29, '}', 0x2F, '\\',
	0x3C, '[', 0x3D, '~', 0x3E, ']', 0x40, '|', 0x65, '€',
}

func withCommon(pairs ...any) [128]rune {
	return extTable(append(append([]any{}, commonExt...), pairs...)...)
}

// lockingTables holds the locking-shift tables; nil means the language has
// none (the default alphabet applies, TS 23.038 §6.2.1.2.3).
var lockingTables = [maxLang + 1]*[128]rune{
	LangDefault: &defaultAlphabet,
	LangTurkish: func() *[128]rune {
		t := defaultAlphabet
		t[0x04], t[0x07], t[0x0B], t[0x0C] = '€', 'ı', 'Ğ', 'ğ'
		t[0x1C], t[0x1D], t[0x40], t[0x60] = 'Ş', 'ş', 'İ', 'ç'
		return &t
	}(),
	LangPortuguese: {
		'@', '£', '$', '¥', 'ê', 'é', 'ú', 'í', 'ó', 'ç', '\n', 'Ô', 'ô', '\r', 'Á', 'á',
		'Δ', '_', 'ª', 'Ç', 'À', '∞', '^', '\\', '€', 'Ó', '|', 0x1B, 'Â', 'â', 'Ê', 'É',
		' ', '!', '"', '#', 'º', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
		'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
		'Í', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
		'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ã', 'Õ', 'Ú', 'Ü', '§',
		'~', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
		'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ã', 'õ', '`', 'ü', 'à',
	},
}

// singleTables holds the extension table (LangDefault) and the national
// single-shift tables.
var singleTables = [maxLang + 1][128]rune{
	LangDefault: withCommon(),
	LangTurkish: withCommon(0x47, 'Ğ', 0x49, 'İ', 0x53, 'Ş', 0x63, 'ç', 0x67, 'ğ', 0x69, 'ı', 0x73, 'ş'),
	LangSpanish: withCommon(0x09, 'ç', 0x41, 'Á', 0x49, 'Í', 0x4F, 'Ó', 0x55, 'Ú',
		0x61, 'á', 0x69, 'í', 0x6F, 'ó', 0x75, 'ú'),
	LangPortuguese: withCommon(0x05, 'ê', 0x09, 'ç', 0x0B, 'Ô', 0x0C, 'ô', 0x0E, 'Á', 0x0F, 'á',
		0x12, 'Φ', 0x13, 'Γ', 0x15, 'Ω', 0x16, 'Π', 0x17, 'Ψ', 0x18, 'Σ', 0x19, 'Θ', 0x1F, 'Ê',
		0x41, 'À', 0x49, 'Í', 0x4F, 'Ó', 0x55, 'Ú', 0x5B, 'Ã', 0x5C, 'Õ',
		0x61, 'Â', 0x69, 'í', 0x6F, 'ó', 0x75, 'ú', 0x7B, 'ã', 0x7C, 'õ', 0x7F, 'â'),
}

func locking(l Language) *[128]rune {
	if l <= maxLang && lockingTables[l] != nil {
		return lockingTables[l]
	}
	return &defaultAlphabet
}

func single(l Language) *[128]rune {
	if l <= maxLang {
		return &singleTables[l]
	}
	return &singleTables[LangDefault]
}

// HasLockingShift reports whether TS 23.038 defines a locking-shift table
// for the language that this package knows (Spanish has none).
func HasLockingShift(l Language) bool {
	return l != LangDefault && l <= maxLang && lockingTables[l] != nil
}

// HasSingleShift reports whether this package has a single-shift table for l.
func HasSingleShift(l Language) bool { return l != LangDefault && l <= maxLang }

// encoding table: value 0 = not encodable; bit 0x100 = present; bit 0x200 =
// needs escape; low 7 bits = septet.
const (
	encPresent = 0x100
	encEscape  = 0x200
	encDirect  = 0x400 // runes below this index are looked up in the array
)

type gsmEncoder struct {
	direct [encDirect]uint16
	extra  map[rune]uint16
}

func (e *gsmEncoder) lookup(r rune) uint16 {
	if r >= 0 && r < encDirect {
		return e.direct[r]
	}
	return e.extra[r]
}

func (e *gsmEncoder) set(r rune, v uint16) {
	if r < encDirect {
		if e.direct[r] == 0 {
			e.direct[r] = v
		}
		return
	}
	if _, ok := e.extra[r]; !ok {
		e.extra[r] = v
	}
}

func newGSMEncoder(lock, shift Language) *gsmEncoder {
	e := &gsmEncoder{extra: map[rune]uint16{}}
	base, ext := locking(lock), single(shift)
	for i, r := range base {
		if i != esc {
			e.set(r, encPresent|uint16(i))
		}
	}
	for i, r := range ext {
		if r != 0 {
			e.set(r, encPresent|encEscape|uint16(i))
		}
	}
	return e
}

// encoders[lock][single], built at init (about 35 KB).
var encoders [maxLang + 1][maxLang + 1]*gsmEncoder

func init() {
	for l := range encoders {
		for s := range encoders[l] {
			encoders[l][s] = newGSMEncoder(Language(l), Language(s))
		}
	}
}

func encoderFor(lock, shift Language) *gsmEncoder {
	if lock > maxLang {
		lock = 0
	}
	if shift > maxLang {
		shift = 0
	}
	return encoders[lock][shift]
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
