//go:build linux

package smppd_test

// Kannel (Debian package kannel: bearerbox + smsbox) as an ESME of the
// smppd daemon: bearerbox binds as a transceiver, messages go in through
// smsbox's sendsms HTTP interface with a dlr-mask and a dlr-url at the
// test's HTTP server, and every message's final delivery report must come
// back (delivered), with an id smppd's store knows (asked with our own
// client's query_sm).

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/interop/internal/kannel"
	"github.com/smppkit/smpp/interop/internal/smppd"
	"github.com/smppkit/smpp/pdu"
	"github.com/smppkit/smpp/text"
)

// dlrHits records the test HTTP server's requests and wakes waiters.
type dlrHits struct {
	kannel.Waiter
	hits []url.Values // the dlr-url calls' queries
	mo   []url.Values // the sms-service calls' queries (MO messages)
}

func (h *dlrHits) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.Add(func() {
		if r.URL.Path == "/dlr" {
			h.hits = append(h.hits, r.URL.Query())
		} else {
			h.mo = append(h.mo, r.URL.Query())
		}
	})
	w.WriteHeader(http.StatusOK)
}

// kannelOwns is the prefix of the addresses Kannel's account owns.
const kannelOwns = "4917699"

func TestKannel(t *testing.T) {
	bearerbox := kannel.Tool(t, "bearerbox")
	smsbox := kannel.Tool(t, "smsbox")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const (
		systemID, password = "kannel1", "kpw123"
		from               = "12345"
	)
	// An account for Kannel that owns 4917699…: messages Kannel sends there
	// come back to it as MO (simulator.loopback).
	// smppd probes an idle session after a second: Kannel must answer.
	d := smppd.Start(t, smppd.Config{ConfigYAML: `
smpp:
  enquire_link_interval: 1s
accounts:
  - system_id: ` + systemID + `
    password: ` + password + `
    addresses: ["` + kannelOwns + `*"]
`})
	_, smppPort, _ := net.SplitHostPort(d.SMPPAddr)

	hits := &dlrHits{}
	hs := httptest.NewServer(hits)
	t.Cleanup(hs.Close)

	dir := t.TempDir()
	tmpl, err := os.ReadFile("kannel.conf.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	adminPort, sendsmsPort := kannel.FreePort(t), kannel.FreePort(t)
	vars := map[string]string{
		"ADMIN_PORT": fmt.Sprint(adminPort), "ADMIN_PASSWORD": "adminpw", "SMSBOX_PORT": fmt.Sprint(kannel.FreePort(t)),
		"SENDSMS_PORT": fmt.Sprint(sendsmsPort), "SMPP_PORT": smppPort, "SYSTEM_ID": systemID, "PASSWORD": password,
		"SENDSMS_USER": "tester", "SENDSMS_PASSWORD": "sendpw", "MO_URL": hs.URL + "/mo", "DIR": dir,
	}
	conf := os.Expand(string(tmpl), func(k string) string {
		v, ok := vars[k]
		if !ok {
			t.Fatalf("kannel.conf.tmpl: unknown placeholder ${%s}", k)
		}
		return v
	})
	confFile := filepath.Join(dir, "kannel.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}

	exited := make(chan string, 2)
	start := func(name, bin string) *kannel.Proc {
		return kannel.Start(t, dir, name, bin, confFile, exited, 10*time.Second)
	}
	t.Cleanup(func() {
		if keep := os.Getenv("SMPPKIT_KANNEL_LOGS"); keep != "" {
			// A directory to keep Kannel's whole logs in, for a look.
			for _, name := range []string{"bearerbox.log", "smsbox.log"} {
				if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
					os.WriteFile(filepath.Join(keep, name), b, 0o644)
				}
			}
		}
		if !t.Failed() {
			return
		}
		for _, name := range []string{"bearerbox.out", "bearerbox.log", "smsbox.log"} {
			b, _ := os.ReadFile(filepath.Join(dir, name))
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			t.Logf("---- %s (last %d lines)\n%s", name, min(len(lines), 60), strings.Join(lines[max(0, len(lines)-60):], "\n"))
		}
	})

	t0 := time.Now()
	bb := start("bearerbox", bearerbox)
	// smppd logs the bind; a bearerbox that exits first (a port taken
	// since freePort, a bad configuration) ends the wait at once.
	bindCtx, bindCancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-bb.Done():
		case <-bindCtx.Done():
		}
		bindCancel()
	}()
	err = d.WaitLog(bindCtx, "system_id="+systemID+" command=bind_transceiver")
	bindCancel()
	if err != nil {
		select {
		case <-bb.Done():
			t.Fatalf("bearerbox exited before it bound (exit code %d)", bb.ExitCode())
		default:
		}
		t.Fatal(err)
	}
	tBind := time.Since(t0)
	sb := start("smsbox", smsbox)
	// External processes: poll bearerbox's status page until smsbox is
	// connected and the SMPP link online.
	for tick := time.NewTicker(50 * time.Millisecond); ; {
		body, _, err := kannel.Get(ctx, fmt.Sprintf("http://127.0.0.1:%d/status.txt?password=adminpw", adminPort))
		if err == nil && strings.Contains(body, "smsbox:") && strings.Contains(body, "online") {
			tick.Stop()
			break
		}
		select {
		case name := <-exited:
			t.Fatalf("%s exited before smsbox was connected", name)
		case <-ctx.Done():
			t.Fatalf("smsbox not connected to bearerbox: %v", ctx.Err())
		case <-tick.C:
		}
	}

	long := strings.Repeat("Kannel sends smppd a long message in parts. ", 9)[:380]
	msgs := []struct {
		name, to, text, coding string
	}{
		{"plain", "4917612345001", "Hello smppd from Kannel", "0"},
		{"UCS-2", "4917612345002", "Grüße Привет 👋 from Kannel", "2"},
		{"long", "4917612345003", long, "0"},
	}
	// Three to addresses Kannel's account owns: they come back as MO.
	moTexts := map[string]string{kannelOwns + "000001": "MO back to Kannel", kannelOwns + "000002": "Zurück: Привет 👋",
		kannelOwns + "000003": long}
	msgs = append(msgs, struct{ name, to, text, coding string }{"MO GSM", kannelOwns + "000001", moTexts[kannelOwns+"000001"], "0"},
		struct{ name, to, text, coding string }{"MO UCS-2", kannelOwns + "000002", moTexts[kannelOwns+"000002"], "2"},
		// 3 parts, each back as an MO part with its UDH, which Kannel joins.
		struct{ name, to, text, coding string }{"MO long", kannelOwns + "000003", long, "0"})
	// More short ones, so that smppd's ids (one per submit_sm, counting up
	// in hexadecimal) reach ones with a letter: 10000000a and on.
	for i := range 6 {
		msgs = append(msgs, struct{ name, to, text, coding string }{fmt.Sprintf("short %d", i+1),
			fmt.Sprintf("49176123451%02d", i), fmt.Sprintf("Short message %d", i+1), "0"})
	}
	for i, m := range msgs {
		dlrURL := hs.URL + fmt.Sprintf("/dlr?msg=%d&type=%%d&fid=%%F&answer=%%A&to=%%P", i)
		q := url.Values{"username": {"tester"}, "password": {"sendpw"}, "from": {from}, "to": {m.to}, "text": {m.text},
			"charset": {"UTF-8"}, "coding": {m.coding}, "dlr-mask": {"31"}, "dlr-url": {dlrURL}}
		var body string
		var status int
		// smsbox's HTTP interface may come up a moment after it connects.
		for tick := time.NewTicker(50 * time.Millisecond); ; {
			body, status, err = kannel.Get(ctx, fmt.Sprintf("http://127.0.0.1:%d/cgi-bin/sendsms?%s", sendsmsPort, q.Encode()))
			if err == nil {
				tick.Stop()
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("%s: sendsms: %v", m.name, err)
			case <-tick.C:
			}
		}
		if status != http.StatusAccepted {
			t.Fatalf("%s: sendsms answered %d %q, want 202", m.name, status, body)
		}
	}

	// Every message's final DLR (type 1, delivered).
	final := func(i int) []url.Values {
		var out []url.Values
		for _, h := range hits.hits {
			if h.Get("msg") == strconv.Itoa(i) && h.Get("type") == "1" {
				out = append(out, h)
			}
		}
		return out
	}
	if err := hits.Wait(ctx, "a delivered DLR for every message", exited, func() bool {
		for i := range msgs {
			if len(final(i)) == 0 {
				return false
			}
		}
		return true
	}); err != nil {
		hits.Mu.Lock()
		t.Logf("DLRs so far: %v", hits.hits)
		hits.Mu.Unlock()
		t.Fatal(err)
	}
	tDLR := time.Since(t0)

	// The MO messages at Kannel's sms-service, from the original sender
	// (Kannel writes TON 1 with a '+'), with the text sent.
	if err := hits.Wait(ctx, "the MO messages at Kannel's sms-service", exited, func() bool { return len(hits.mo) >= len(moTexts) }); err != nil {
		t.Fatal(err)
	}
	hits.Mu.Lock()
	for _, mo := range hits.mo {
		to := strings.TrimPrefix(mo.Get("to"), "+")
		want, ok := moTexts[to]
		got := mo.Get("text")
		if mo.Get("coding") == "2" { // Kannel hands on UCS-2 as it came: UTF-16BE
			got = text.DecodeUCS2([]byte(got))
		}
		if !ok || got != want || mo.Get("from") != "+"+from {
			t.Errorf("MO at sms-service: from %q to %q coding %q text %q; want from +%s one of %q", mo.Get("from"), mo.Get("to"),
				mo.Get("coding"), got, from, moTexts)
		}
		delete(moTexts, to)
	}
	if len(hits.mo) != 3 {
		t.Errorf("%d MO messages at sms-service, want 3", len(hits.mo))
	}
	hits.Mu.Unlock()

	// smppd's receipts for the long message's other parts may still be on
	// their way; they are counted once smppd has logged no failure, below.
	c, err := smpp.Dial(ctx, fmt.Sprintf("smpp://%s:%s@%s", systemID, password, d.SMPPAddr),
		&smpp.ClientConfig{Bind: smpp.BindTransmitter, NoReconnect: true, DialTimeout: 10 * time.Second, ResponseTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("our client's bind: %v", err)
	}
	defer c.Close()
	hits.Mu.Lock()
	all := append([]url.Values(nil), hits.hits...)
	hits.Mu.Unlock()
	var ids []string
	for i, m := range msgs {
		if n := len(final(i)); n != 1 {
			t.Errorf("%s: %d delivered DLRs, want 1", m.name, n)
		}
		for _, h := range final(i) {
			// msg-id-type 0x03: Kannel reports smppd's hexadecimal id as
			// the decimal number it stands for.
			n, err := strconv.ParseUint(h.Get("fid"), 10, 64)
			if err != nil {
				t.Errorf("%s: DLR foreign id %q is not the decimal number msg-id-type 0x03 makes of it", m.name, h.Get("fid"))
				continue
			}
			id := strconv.FormatUint(n, 16)
			ids = append(ids, id)
			if ans := h.Get("answer"); !strings.HasPrefix(ans, "id:"+id+" ") || !strings.Contains(ans, " stat:DELIVRD ") {
				t.Errorf("%s: DLR answer %q, want smppd's receipt for %s", m.name, ans, id)
			}
			if h.Get("to") != from {
				t.Errorf("%s: DLR to %q, want %q", m.name, h.Get("to"), from)
			}
			qr, err := c.Query(ctx, &pdu.QuerySM{MessageID: id, SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: from})
			if err != nil || qr.MessageID != id || qr.MessageState != pdu.StateDelivered {
				t.Errorf("%s: query_sm %s from smppd's store: %+v, %v", m.name, id, qr, err)
			}
		}
		t.Logf("%s: %d delivered DLR(s), foreign ids %v", m.name, len(final(i)), fids(final(i)))
	}
	if !slices.ContainsFunc(ids, func(id string) bool { return strings.ContainsAny(id, "abcdef") }) {
		t.Errorf("no smppd id with a hexadecimal letter among %v: msg-id-type 0x03 not exercised", ids)
	}
	if err := c.Unbind(ctx); err != nil {
		t.Errorf("Unbind: %v", err)
	}
	var acks int
	for _, h := range all {
		if h.Get("type") == "8" {
			acks++
		}
		if typ := h.Get("type"); typ == "2" || typ == "16" {
			t.Errorf("DLR of type %s (failure): %v", typ, h)
		}
	}
	t.Logf("%d dlr-url calls (%d SMSC acks); bound after %v, delivered DLRs for all after %v",
		len(all), acks, tBind.Round(time.Millisecond), tDLR.Round(time.Millisecond))

	// smppd's enquire_link on the idle session, answered by Kannel (its
	// debug log dumps every PDU it sends; an external process's file:
	// polled).
	for tick := time.NewTicker(50 * time.Millisecond); !kannelSent(filepath.Join(dir, "bearerbox.log"), "enquire_link_resp"); {
		select {
		case name := <-exited:
			t.Fatalf("%s exited before answering smppd's enquire_link", name)
		case <-ctx.Done():
			t.Fatalf("Kannel never answered an enquire_link of smppd's: %v", ctx.Err())
		case <-tick.C:
		}
	}
	checkLog(t, d) // anything smppd had to say about Kannel's session
	sb.Stop(t, 5*time.Second, false)
	bb.Stop(t, 10*time.Second, true)
}

func fids(vs []url.Values) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Get("fid"))
	}
	return out
}

// kannelSent reports whether bearerbox's log shows it sending a PDU of the
// command: its dumps read "SMPP[id]: Sending PDU:", then the dump's
// header, then "type_name: <command>".
func kannelSent(logFile, command string) bool {
	b, _ := os.ReadFile(logFile)
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if !strings.HasSuffix(l, "Sending PDU:") {
			continue
		}
		for _, next := range lines[i+1 : min(i+4, len(lines))] {
			if strings.HasSuffix(next, "type_name: "+command) {
				return true
			}
		}
	}
	return false
}
