// Command idlesessions holds N idle bound sessions to an SMPP server and
// reports the server's resident memory before and after, per session:
//
//	go run ./scripts/idlesessions -addr 127.0.0.1:2775 -n 10000 -pid $(pgrep smppd)
//
// Each session is a bare connection that binds as transceiver and then only
// answers enquire_link, so the figure is the server's cost alone.
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:2775", "server address")
	n := flag.Int("n", 10000, "sessions")
	pid := flag.Int("pid", 0, "server process id (to read its memory)")
	hold := flag.Duration("hold", 5*time.Second, "how long to hold the sessions once bound")
	flag.Parse()
	before := rss(*pid)
	start := time.Now()
	conns := make([]net.Conn, 0, *n)
	for i := range *n {
		c, err := net.Dial("tcp", *addr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "session %d: %v\n", i, err)
			os.Exit(1)
		}
		if err := bind(c, fmt.Sprintf("idle%d", i%100)); err != nil {
			fmt.Fprintf(os.Stderr, "session %d: bind: %v\n", i, err)
			os.Exit(1)
		}
		conns = append(conns, c)
		go answer(c)
	}
	bound := time.Since(start)
	time.Sleep(*hold)
	after := rss(*pid)
	fmt.Printf("sessions=%d bound_in=%v rss_before=%dKiB rss_after=%dKiB per_session=%.1fKiB\n",
		len(conns), bound.Round(time.Millisecond), before, after, float64(after-before)/float64(len(conns)))
	for _, c := range conns {
		c.Close()
	}
}

func pduBytes(id, seq uint32, body []byte) []byte {
	b := make([]byte, 16, 16+len(body))
	binary.BigEndian.PutUint32(b, uint32(16+len(body)))
	binary.BigEndian.PutUint32(b[4:], id)
	binary.BigEndian.PutUint32(b[12:], seq)
	return append(b, body...)
}

func bind(c net.Conn, systemID string) error {
	body := append([]byte(systemID), 0)
	body = append(body, "pw\x00\x00\x34\x00\x00\x00"...)
	if _, err := c.Write(pduBytes(0x00000009, 1, body)); err != nil {
		return err
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	hdr := make([]byte, 16)
	if _, err := io.ReadFull(c, hdr); err != nil {
		return err
	}
	rest := make([]byte, binary.BigEndian.Uint32(hdr)-16)
	if _, err := io.ReadFull(c, rest); err != nil {
		return err
	}
	c.SetReadDeadline(time.Time{})
	if st := binary.BigEndian.Uint32(hdr[8:]); st != 0 {
		return fmt.Errorf("status 0x%08X", st)
	}
	return nil
}

// answer answers enquire_link until the connection closes.
func answer(c net.Conn) {
	hdr := make([]byte, 16)
	for {
		if _, err := io.ReadFull(c, hdr); err != nil {
			return
		}
		rest := make([]byte, binary.BigEndian.Uint32(hdr)-16)
		if _, err := io.ReadFull(c, rest); err != nil {
			return
		}
		if binary.BigEndian.Uint32(hdr[4:]) == 0x15 {
			c.Write(pduBytes(0x80000015, binary.BigEndian.Uint32(hdr[12:]), nil))
		}
	}
}

// rss returns a process's resident set in KiB (0 without a pid).
func rss(pid int) int {
	if pid == 0 {
		return 0
	}
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	return 0
}
