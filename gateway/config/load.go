package config

import (
	"encoding"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Overrides are the values of smppd's flags; an empty field was not given
// (so a flag cannot turn a listener off: the file or the environment can).
type Overrides struct {
	SMPPAddr  string // --smpp-addr: smpp.bind_address
	SMPPSAddr string // --smpps-addr: smpp.tls_address
	HTTPAddr  string // --http-addr: http.address
	DataDir   string // --data-dir: store.data_dir
	Config    string // --config: the YAML file
}

// Error is one fault in the configuration.
type Error struct {
	// Source is where the value came from: "smppd.yaml line 12", "env
	// SMPP__BIND_ADDRESS", "flag --smpp-addr", or empty for a default or
	// a Config built in code.
	Source string
	// Key is the dotted key (smpp.bind_address, accounts[0].password), or
	// empty when Msg names it.
	Key string
	// Msg says what is wrong and what is allowed.
	Msg string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	if e.Source != "" {
		b.WriteString(e.Source)
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Load builds the configuration: Defaults, then the YAML file, then the
// environment (entries "KEY=value", as os.Environ returns them), then the
// flags. The file is path if not empty, else flags.Config, else the
// environment's CONFIG_PATH (as smpp-server reads it); none means no file.
// Every fault found is reported, joined (errors.Join) from *Error values.
func Load(path string, env []string, flags Overrides) (*Config, error) {
	l := &loader{origin: map[string]string{}}
	cfg := Defaults()
	if path == "" {
		path = flags.Config
	}
	if path == "" {
		path = lookupEnv(env, "CONFIG_PATH")
	}
	if path != "" {
		l.file = path
		l.readFile(path, cfg)
	}
	compat := l.applyEnv(env, cfg)
	l.applyFlags(flags, cfg)

	cfg.normalize()
	routesSet := l.origin["routes.default"] != ""
	if compat && !routesSet {
		cfg.Routes.Default = "smsgate"
	}
	if l.origin["gateway.api_base_url"] != "" || compat {
		cfg.passThrough = cfg.Routes.Default == "smsgate" || len(cfg.Accounts) == 0
		if cfg.passThrough && !routesSet {
			cfg.Routes.Default = "smsgate"
		}
	}
	if cfg.Store.Path == "" && cfg.Store.Driver == "sqlite" && cfg.Store.DataDir != "" {
		cfg.Store.Path = filepath.Join(cfg.Store.DataDir, "smppd.db")
	}

	errs, warnings := cfg.validate(l.where)
	l.errs = append(l.errs, errs...)
	if len(l.errs) > 0 {
		return nil, errors.Join(l.errs...)
	}
	cfg.Warnings = warnings
	return cfg, nil
}

// Validate checks a Config built in code as Load checks a loaded one (its
// warnings aside). Like Load, it writes the short bind types (tx, rx, trx)
// long.
func (c *Config) Validate() error {
	c.normalize()
	errs, _ := c.validate(func(string) string { return "" })
	return errors.Join(errs...)
}

func lookupEnv(env []string, name string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}

// normalize writes the short bind type names long.
func (c *Config) normalize() {
	short := map[string]string{"tx": Transmitter, "rx": Receiver, "trx": Transceiver}
	for i := range c.Accounts {
		for j, t := range c.Accounts[i].BindTypes {
			if long, ok := short[strings.ToLower(t)]; ok {
				c.Accounts[i].BindTypes[j] = long
			}
		}
	}
}

type loader struct {
	file   string
	origin map[string]string // dotted key → where it was set
	errs   []error
}

// where returns where key was set. A key inside a list entry that was not
// set itself is reported at its entry.
func (l *loader) where(key string) string {
	for {
		if o := l.origin[key]; o != "" || !strings.Contains(key, "[") {
			return o
		}
		if i := strings.LastIndexAny(key, ".["); i > 0 {
			key = key[:i]
		} else {
			return ""
		}
	}
}

func (l *loader) fail(src, key, format string, args ...any) {
	l.errs = append(l.errs, &Error{Source: src, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (l *loader) at(n *yaml.Node) string { return fmt.Sprintf("%s line %d", l.file, n.Line) }

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

func (l *loader) readFile(path string, cfg *Config) {
	data, err := os.ReadFile(path)
	if err != nil {
		l.fail("", "", "cannot read the config file: %v", err)
		return
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := err.Error()
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			l.fail(path+" line "+m[1], "", "%s", msg[len(m[0]):])
		} else {
			l.fail(path, "", "%s", strings.TrimPrefix(msg, "yaml: "))
		}
		return
	}
	if len(doc.Content) == 0 {
		return // an empty file: all defaults
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return
	}
	l.decode(root, root, reflect.ValueOf(cfg).Elem(), "")
}

var durationType = reflect.TypeFor[time.Duration]()

// decode reads n into v. key is v's dotted key; at is the node whose line
// is reported for v (the key's, for a mapping value).
func (l *loader) decode(at, n *yaml.Node, v reflect.Value, key string) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if key != "" {
		l.origin[key] = l.at(at)
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		if isScalar(v.Type()) && v.Kind() != reflect.String {
			l.fail(l.at(n), key, "no value (%s)", describe(v.Type()))
			return
		}
		switch v.Kind() {
		case reflect.Struct, reflect.Map:
			// A section with all its keys commented out: the defaults.
		case reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			v.Set(reflect.Zero(v.Type()))
		}
		return
	}
	t := v.Type()
	switch {
	case isScalar(t):
		if n.Kind != yaml.ScalarNode {
			l.fail(l.at(n), key, "must be a single value (%s), not a %s", describe(t), kindName(n))
			return
		}
		if msg := setScalar(v, n.Value); msg != "" {
			l.fail(l.at(n), key, "%s", msg)
		}
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			l.fail(l.at(n), key, "must be a mapping of keys, not a %s", kindName(n))
			return
		}
		fields := fieldsOf(t)
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			name := k.Value
			child := joinKey(key, name)
			if line, dup := seen[name]; dup {
				l.fail(l.at(k), child, "set twice (first on line %d)", line)
				continue
			}
			seen[name] = k.Line
			f, ok := fields[name]
			if !ok {
				l.fail(l.at(k), "", "%s", unknownKey(child, key, t))
				continue
			}
			l.decode(k, val, v.FieldByIndex(f), child)
		}
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			l.fail(l.at(n), key, "must be a list (- item lines, or [a, b]), not a %s", kindName(n))
			return
		}
		s := reflect.MakeSlice(t, 0, len(n.Content))
		for i, item := range n.Content {
			e := reflect.New(t.Elem()).Elem()
			if t.Elem() == reflect.TypeFor[Account]() {
				e.Set(reflect.ValueOf(defaultAccount()))
			}
			l.decode(item, item, e, fmt.Sprintf("%s[%d]", key, i))
			s = reflect.Append(s, e)
		}
		v.Set(s)
	case t.Kind() == reflect.Map:
		if n.Kind != yaml.MappingNode {
			l.fail(l.at(n), key, "must be a mapping (name: weight), not a %s", kindName(n))
			return
		}
		m := reflect.MakeMap(t)
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			child := joinKey(key, k.Value)
			if line, dup := seen[k.Value]; dup {
				l.fail(l.at(k), child, "set twice (first on line %d)", line)
				continue
			}
			seen[k.Value] = k.Line
			e := reflect.New(t.Elem()).Elem()
			l.decode(k, val, e, child)
			m.SetMapIndex(reflect.ValueOf(k.Value), e)
		}
		v.Set(m)
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "single value"
}

func joinKey(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// unknownKey is the message for key, unknown in the struct t at parent.
func unknownKey(key, parent string, t reflect.Type) string {
	names := fieldNames(t)
	if parent == "" {
		return fmt.Sprintf("unknown key %q (known sections: %s)", key, strings.Join(names, ", "))
	}
	return fmt.Sprintf("unknown key %q (known keys in %s: %s)", key, parent, strings.Join(names, ", "))
}

// fieldsOf maps a struct's yaml names to field indexes.
func fieldsOf(t reflect.Type) map[string][]int {
	m := map[string][]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name := yamlName(f)
		if name != "" {
			m[name] = f.Index
		}
	}
	return m
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" {
			names = append(names, name)
		}
	}
	return names
}

func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

func isScalar(t reflect.Type) bool {
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// describe says what a scalar type accepts.
func describe(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration like 30s"
	case t == reflect.TypeFor[CommandStatus]():
		return "an SMPP status"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "an integer"
}

// setScalar sets v from its text s, or returns what is wrong with s.
func setScalar(v reflect.Value, s string) string {
	if tu, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		if err := tu.UnmarshalText([]byte(s)); err != nil {
			return err.Error()
		}
		return ""
	}
	if v.Type() == durationType {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return fmt.Sprintf("%q is not a duration (like 500ms, 30s, 5m, 72h)", s)
		}
		if d < 0 {
			return fmt.Sprintf("%q is negative", s)
		}
		v.SetInt(int64(d))
		return ""
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Sprintf("%q is not true or false", s)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return fmt.Sprintf("%q is not an integer", s)
		}
		if err != nil || v.OverflowInt(n) {
			return fmt.Sprintf("%q is out of range", s)
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		max := uint64(1)<<v.Type().Bits() - 1
		n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil || v.OverflowUint(n) {
			return fmt.Sprintf("%q is not a whole number from 0 to %d", s, max)
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Sprintf("%q is not a number", s)
		}
		v.SetFloat(f)
	}
	return ""
}

// smppServerVars are the variables android-sms-gateway's smpp-server reads.
var smppServerVars = []string{
	"HTTP__ADDRESS", "SMPP__BIND_ADDRESS", "SMPP__TLS_CERT", "SMPP__TLS_KEY",
	"GATEWAY__API_BASE_URL", "GATEWAY__WEBHOOK_BASE_URL", "GATEWAY__TIMEOUT",
}

// applyEnv sets the keys the environment names. It reports whether only
// smpp-server's variables are set, at least one of its gateway ones, and
// no config file: smpp-server's configuration.
func (l *loader) applyEnv(env []string, cfg *Config) (compat bool) {
	root := reflect.ValueOf(cfg).Elem()
	sections := fieldsOf(root.Type())
	vars := map[string]string{}
	for _, kv := range env {
		name, val, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		section, _, ok := strings.Cut(name, "__")
		if !ok {
			continue
		}
		if _, known := sections[strings.ToLower(section)]; !known {
			continue
		}
		vars[name] = val
	}
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	sort.Strings(names)
	compat = l.file == ""
	gatewayVar := false
	for _, name := range names {
		up := strings.ToUpper(name)
		if !slices.Contains(smppServerVars, up) {
			compat = false
		}
		if strings.HasPrefix(up, "GATEWAY__") {
			gatewayVar = true
		}
		l.setEnv(root, name, vars[name])
	}
	return compat && gatewayVar
}

func (l *loader) setEnv(root reflect.Value, name, val string) {
	src := "env " + name
	parts := strings.Split(strings.ToLower(name), "__")
	v, key := root, ""
	for i, p := range parts {
		t := v.Type()
		switch {
		case t.Kind() == reflect.Struct:
			f, ok := fieldsOf(t)[p]
			if !ok {
				l.fail(src, "", "%s", unknownKey(joinKey(key, p), key, t))
				return
			}
			v, key = v.FieldByIndex(f), joinKey(key, p)
		case t.Kind() == reflect.Map && i == len(parts)-1:
			child := joinKey(key, p)
			e := reflect.New(t.Elem()).Elem()
			if msg := setScalar(e, val); msg != "" {
				l.fail(src, child, "%s", msg)
				return
			}
			if v.IsNil() {
				v.Set(reflect.MakeMap(t))
			}
			v.SetMapIndex(reflect.ValueOf(p), e)
			l.origin[child] = src
			return
		case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
			l.fail(src, key, "can be set only in the config file")
			return
		default:
			l.fail(src, "", "unknown key %q (%s has no keys below it)", joinKey(key, strings.Join(parts[i:], ".")), key)
			return
		}
	}
	l.origin[key] = src
	if msg := setString(v, val); msg != "" {
		l.fail(src, key, "%s", msg)
	}
}

// setString sets v from an environment variable's or flag's text: a scalar
// as it is, a list as comma-separated items, a map as name:value pairs.
func setString(v reflect.Value, s string) string {
	t := v.Type()
	switch {
	case isScalar(t):
		return setScalar(v, s)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		items := []string{}
		for it := range strings.SplitSeq(s, ",") {
			if it = strings.TrimSpace(it); it != "" {
				items = append(items, it)
			}
		}
		v.Set(reflect.ValueOf(items).Convert(t))
	case t.Kind() == reflect.Map:
		m := reflect.MakeMap(t)
		for it := range strings.SplitSeq(s, ",") {
			it = strings.TrimSpace(it)
			if it == "" {
				continue
			}
			k, val, ok := strings.Cut(it, ":")
			if !ok {
				k, val, ok = strings.Cut(it, "=")
			}
			if !ok {
				return fmt.Sprintf("%q is not a list of name:weight pairs (like delivered:90,undeliverable:10)", s)
			}
			e := reflect.New(t.Elem()).Elem()
			if msg := setScalar(e, strings.TrimSpace(val)); msg != "" {
				return fmt.Sprintf("%s: %s", strings.TrimSpace(k), msg)
			}
			m.SetMapIndex(reflect.ValueOf(strings.TrimSpace(k)), e)
		}
		v.Set(m)
	default:
		return "can be set only in the config file"
	}
	return ""
}

func (l *loader) applyFlags(f Overrides, cfg *Config) {
	set := func(flag, key, val string, dst *string) {
		if val != "" {
			*dst = val
			l.origin[key] = "flag --" + flag
		}
	}
	set("smpp-addr", "smpp.bind_address", f.SMPPAddr, &cfg.SMPP.BindAddress)
	set("smpps-addr", "smpp.tls_address", f.SMPPSAddr, &cfg.SMPP.TLSAddress)
	set("http-addr", "http.address", f.HTTPAddr, &cfg.HTTP.Address)
	set("data-dir", "store.data_dir", f.DataDir, &cfg.Store.DataDir)
}
