package pdu

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The JSON form of a PDU is one object: the header as "command",
// "command_id", "command_status", "command_status_name" and
// "sequence_number", then every mandatory field under its spec name in wire
// order (integers as numbers, C-octet strings as strings, octet strings as
// lowercase hex, lists as arrays of objects), then "tlvs": an array of
// {"tag", "name", "value"} objects in wire order. A TLV whose value does not
// fit its type, or whose tag is unknown, has "hex" instead of "value".
// UnmarshalJSON reads the same form back, so MarshalJSON → UnmarshalJSON →
// Append reproduces the original octets. Fields it does not find are NULL; a
// key the PDU does not have is an error that names it (a misspelt
// "destination_adr" would otherwise go out as an empty address). The keys
// MarshalJSON adds for people ("command_status_name", "short_message_text",
// a TLV's "name" and "text") are allowed; "short_message_text" is encoded
// when "short_message" is absent and JSONOptions.EncodeText is set.

type jsonState struct {
	buf   []byte
	first bool
	in    map[string]json.RawMessage
	seen  map[string]bool // keys of in that a field read

	encodeText func(dataCoding uint8, s string) ([]byte, error)

	// For JSONOptions.Text: the last data_coding and esm_class seen.
	text       func(dataCoding, esmClass uint8, octets []byte) (string, bool)
	dataCoding uint8
	esmClass   uint8
}

func (j *jsonState) key(name string) {
	if !j.first {
		j.buf = append(j.buf, ',')
	}
	j.first = false
	j.buf = strconv.AppendQuote(j.buf, name)
	j.buf = append(j.buf, ':')
}

func (j *jsonState) str(name, v string) {
	j.key(name)
	j.buf = appendJSONString(j.buf, v)
}

func (j *jsonState) num(name string, v uint64) {
	switch name {
	case "data_coding":
		j.dataCoding = uint8(v)
	case "esm_class":
		j.esmClass = uint8(v)
	}
	j.key(name)
	j.buf = strconv.AppendUint(j.buf, v, 10)
}

func (j *jsonState) hex(name string, v []byte) {
	j.key(name)
	j.buf = append(j.buf, '"')
	j.buf = hex.AppendEncode(j.buf, v)
	j.buf = append(j.buf, '"')
	if j.text != nil && name == "short_message" && len(v) > 0 {
		if s, ok := j.text(j.dataCoding, j.esmClass, v); ok {
			j.str(name+"_text", s)
		}
	}
}

func (j *jsonState) list(name string, n int, entry func(i int)) {
	j.key(name)
	j.buf = append(j.buf, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			j.buf = append(j.buf, ',')
		}
		j.buf = append(j.buf, '{')
		j.first = true
		entry(i)
		j.buf = append(j.buf, '}')
	}
	j.buf = append(j.buf, ']')
	j.first = false
}

func (j *jsonState) tlvs(ts TLVs) {
	j.key("tlvs")
	j.buf = append(j.buf, '[')
	for i, t := range ts {
		if i > 0 {
			j.buf = append(j.buf, ',')
		}
		j.buf = fmt.Appendf(j.buf, `{"tag":"0x%04x"`, uint16(t.Tag))
		d, known := lookupTLV(t.Tag)
		if known {
			j.buf = append(j.buf, `,"name":`...)
			j.buf = strconv.AppendQuote(j.buf, d.Name)
		}
		if v, ok := typedTLVValue(d, known, t.Value); ok {
			j.buf = append(j.buf, `,"value":`...)
			j.buf = append(j.buf, v...)
		} else {
			j.buf = append(j.buf, `,"hex":"`...)
			j.buf = hex.AppendEncode(j.buf, t.Value)
			j.buf = append(j.buf, '"')
		}
		if t.Tag == TagMessagePayload && j.text != nil {
			if s, ok := j.text(j.dataCoding, j.esmClass, t.Value); ok {
				j.buf = append(j.buf, `,"text":`...)
				j.buf = appendJSONString(j.buf, s)
			}
		}
		j.buf = append(j.buf, '}')
	}
	j.buf = append(j.buf, ']')
}

// typedTLVValue renders a TLV value as typed JSON when it has exactly the
// shape of its type; otherwise the caller falls back to hex so nothing is lost.
func typedTLVValue(d *TLVDef, known bool, v []byte) ([]byte, bool) {
	if !known {
		return nil, false
	}
	switch d.Type {
	case TLVUint8:
		if len(v) == 1 {
			return strconv.AppendUint(nil, uint64(v[0]), 10), true
		}
	case TLVUint16:
		if len(v) == 2 {
			return strconv.AppendUint(nil, uint64(binary.BigEndian.Uint16(v)), 10), true
		}
	case TLVUint32:
		if len(v) == 4 {
			return strconv.AppendUint(nil, uint64(binary.BigEndian.Uint32(v)), 10), true
		}
	case TLVCString:
		if n := len(v); n > 0 && v[n-1] == 0 && bytes.IndexByte(v[:n-1], 0) < 0 && utf8.Valid(v[:n-1]) {
			return appendJSONString(nil, string(v[:n-1])), true
		}
	case TLVFlag:
		if len(v) == 0 {
			return []byte("true"), true
		}
	}
	return nil, false
}

func appendJSONString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return append(dst, b...)
}

// JSONOptions tune the JSON form.
type JSONOptions struct {
	// Text, if set, turns message octets into text for people to read: the
	// result goes into "short_message_text" (and "text" of a
	// message_payload TLV) when ok. Those keys are ignored when reading.
	Text func(dataCoding, esmClass uint8, octets []byte) (text string, ok bool)
	// EncodeText, if set, lets Unmarshal take "short_message_text" in
	// place of an absent "short_message": it encodes the text by the
	// PDU's data_coding (a text package codec does this).
	EncodeText func(dataCoding uint8, text string) ([]byte, error)
}

// MarshalJSON returns the JSON form of p (see the package's JSON notes).
func MarshalJSON(p PDU) ([]byte, error) { return JSONOptions{}.Marshal(p) }

// Marshal returns the JSON form of p.
func (o JSONOptions) Marshal(p PDU) ([]byte, error) {
	h := p.Head()
	id := p.CommandID()
	j := &jsonState{first: true, text: o.Text}
	j.buf = append(j.buf, '{')
	j.str("command", id.String())
	j.str("command_id", fmt.Sprintf("0x%08x", uint32(id)))
	j.num("command_status", uint64(h.CommandStatus))
	j.str("command_status_name", h.CommandStatus.String())
	j.num("sequence_number", uint64(h.SequenceNumber))
	f := &Fields{mode: modeJSONOut, id: id, js: j}
	p.Fields(f)
	if f.err != nil {
		return nil, f.err
	}
	j.buf = append(j.buf, '}')
	return j.buf, nil
}

// UnmarshalJSON builds a PDU from its JSON form. The command is taken from
// "command" (a name) or, failing that, "command_id" (a number or a hex
// string). Keys the PDU does not have are an error.
func UnmarshalJSON(data []byte) (PDU, error) { return JSONOptions{}.Unmarshal(data) }

// Unmarshal is UnmarshalJSON with o's EncodeText.
func (o JSONOptions) Unmarshal(data []byte) (PDU, error) {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("pdu: JSON: %w", err)
	}
	j := &jsonState{in: in, seen: map[string]bool{"command": true, "command_id": true, "command_status_name": true},
		encodeText: o.EncodeText}
	var id CommandID
	var name string
	if raw, ok := in["command"]; ok {
		if err := json.Unmarshal(raw, &name); err != nil {
			return nil, fmt.Errorf("pdu: JSON: command: %w", err)
		}
		var found bool
		if id, found = CommandByName(name); !found {
			return nil, fmt.Errorf("pdu: JSON: unknown command %q", name)
		}
	} else if raw, ok := in["command_id"]; ok {
		v, err := parseJSONUint(raw)
		if err != nil {
			return nil, fmt.Errorf("pdu: JSON: command_id: %w", err)
		}
		id = CommandID(v)
	} else {
		return nil, fmt.Errorf("pdu: JSON: no \"command\"")
	}
	p := New(id)
	if p == nil {
		return nil, fmt.Errorf("pdu: JSON: unknown command_id 0x%08x", uint32(id))
	}
	f := &Fields{mode: modeJSONIn, id: id, js: j}
	var status, seq uint32
	f.Uint32("command_status", &status)
	f.Uint32("sequence_number", &seq)
	*p.Head() = Header{CommandStatus: Status(status), SequenceNumber: seq}
	p.Fields(f)
	if f.err == nil {
		j.unknownKeys(f, "")
	}
	if f.err != nil {
		return nil, f.err
	}
	return p, nil
}

// unknownKeys fails when j.in has keys no field read.
func (j *jsonState) unknownKeys(f *Fields, where string) {
	var bad []string
	for k := range j.in {
		if !j.seen[k] {
			bad = append(bad, strconv.Quote(k))
		}
	}
	if len(bad) == 0 {
		return
	}
	sort.Strings(bad)
	what := "field"
	if len(bad) > 1 {
		what = "fields"
	}
	subject := f.id.String()
	if where != "" {
		subject = "the entry"
	}
	f.Fail(where, ESME_RUNKNOWNERR, "JSON: %s has no %s %s", subject, what, strings.Join(bad, ", "))
}

func parseJSONUint(raw json.RawMessage) (uint64, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strconv.ParseUint(s, 0, 64)
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, err
	}
	return strconv.ParseUint(n.String(), 10, 64)
}

func (j *jsonState) bad(f *Fields, name string, err error) {
	f.Fail(name, fieldStatus(name), "JSON: %v", err)
}

func (j *jsonState) getStr(f *Fields, name string, p *string) {
	j.seen[name] = true
	raw, ok := j.in[name]
	if !ok {
		*p = ""
		return
	}
	if err := json.Unmarshal(raw, p); err != nil {
		j.bad(f, name, err)
	}
}

func (j *jsonState) getNum(f *Fields, name string, p *uint64, max uint64) bool {
	j.seen[name] = true
	raw, ok := j.in[name]
	if !ok {
		*p = 0
		return true
	}
	v, err := parseJSONUint(raw)
	if err == nil && v > max {
		err = fmt.Errorf("%d is out of range", v)
	}
	if err != nil {
		j.bad(f, name, err)
		return false
	}
	*p = v
	if name == "data_coding" {
		j.dataCoding = uint8(v)
	}
	return true
}

// getOctets reads an octet string and its length field (which is implied
// by the octets, so its value is not checked), or the string's "_text" form.
func (j *jsonState) getOctets(f *Fields, lenName, name string, p *[]byte) {
	j.seen[lenName] = true
	textKey := name + "_text"
	j.seen[textKey] = true
	raw, hasText := j.in[textKey]
	if _, ok := j.in[name]; ok || !hasText {
		j.getHex(f, name, p)
		return
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		j.bad(f, textKey, err)
		return
	}
	if j.encodeText == nil {
		f.Fail(textKey, fieldStatus(name), "JSON: give %q as hex (this reader does not encode text)", name)
		return
	}
	b, err := j.encodeText(j.dataCoding, s)
	if err != nil {
		f.Fail(textKey, fieldStatus(name), "JSON: data_coding %d: %v", j.dataCoding, err)
		return
	}
	if len(b) == 0 {
		b = nil
	}
	*p = b
}

func (j *jsonState) getHex(f *Fields, name string, p *[]byte) {
	var s string
	j.getStr(f, name, &s)
	b, err := hex.DecodeString(s)
	if err != nil {
		j.bad(f, name, err)
		return
	}
	if len(b) == 0 {
		b = nil
	}
	*p = b
}

func (j *jsonState) getList(f *Fields, countName, name string, grow func(int), entry func(int)) {
	j.seen[countName] = true
	j.seen[name] = true
	var items []map[string]json.RawMessage
	if raw, ok := j.in[name]; ok {
		if err := json.Unmarshal(raw, &items); err != nil {
			j.bad(f, name, err)
			return
		}
	}
	grow(len(items))
	outer, outerSeen := j.in, j.seen
	for i, it := range items {
		j.in, j.seen = it, map[string]bool{}
		entry(i)
		if f.err == nil {
			j.unknownKeys(f, fmt.Sprintf("%s[%d]", name, i))
		}
	}
	j.in, j.seen = outer, outerSeen
}

type jsonTLV struct {
	Tag   string          `json:"tag"`
	Name  string          `json:"name"`
	Value json.RawMessage `json:"value"`
	Hex   *string         `json:"hex"`
	Text  json.RawMessage `json:"text"` // for people; ignored
}

func (j *jsonState) getTLVs(f *Fields, p *TLVs) {
	j.seen["tlvs"] = true
	raw, ok := j.in["tlvs"]
	if !ok {
		*p = nil
		return
	}
	var items []jsonTLV
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&items); err != nil {
		f.Fail("tlvs", ESME_RINVTLVSTREAM, "JSON: %v", err)
		return
	}
	var ts TLVs
	for _, it := range items {
		t, err := it.tlv()
		if err != nil {
			f.Fail("tlvs", ESME_RINVTLVVAL, "JSON: %v", err)
			return
		}
		ts = append(ts, t)
	}
	*p = ts
}

func (it jsonTLV) tlv() (TLV, error) {
	var tag Tag
	switch {
	case it.Tag != "":
		v, err := strconv.ParseUint(it.Tag, 0, 16)
		if err != nil {
			return TLV{}, fmt.Errorf("tag %q: %v", it.Tag, err)
		}
		tag = Tag(v)
	case it.Name != "":
		var ok bool
		if tag, ok = TagByName(it.Name); !ok {
			return TLV{}, fmt.Errorf("unknown TLV %q", it.Name)
		}
	default:
		return TLV{}, fmt.Errorf("a TLV needs a tag or a name")
	}
	if it.Hex != nil {
		v, err := hex.DecodeString(*it.Hex)
		if err != nil {
			return TLV{}, fmt.Errorf("%s: %v", tag, err)
		}
		return TLV{tag, v}, nil
	}
	d, ok := lookupTLV(tag)
	if !ok {
		return TLV{}, fmt.Errorf("TLV 0x%04x is unknown: give its value as \"hex\"", uint16(tag))
	}
	var ts TLVs
	switch d.Type {
	case TLVUint8, TLVUint16, TLVUint32:
		v, err := parseJSONUint(it.Value)
		if err != nil {
			return TLV{}, fmt.Errorf("%s: %v", d.Name, err)
		}
		switch d.Type {
		case TLVUint8:
			ts.SetUint8(tag, uint8(v))
		case TLVUint16:
			ts.SetUint16(tag, uint16(v))
		default:
			ts.SetUint32(tag, uint32(v))
		}
	case TLVCString:
		var s string
		if err := json.Unmarshal(it.Value, &s); err != nil {
			return TLV{}, fmt.Errorf("%s: %v", d.Name, err)
		}
		ts.SetString(tag, s)
	case TLVFlag:
		ts.Set(tag, []byte{})
	default:
		var s string
		if err := json.Unmarshal(it.Value, &s); err != nil {
			return TLV{}, fmt.Errorf("%s: value must be a hex string: %v", d.Name, err)
		}
		v, err := hex.DecodeString(s)
		if err != nil {
			return TLV{}, fmt.Errorf("%s: %v", d.Name, err)
		}
		ts.Set(tag, v)
	}
	return ts[0], nil
}
