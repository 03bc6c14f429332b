package smsgatefake

import (
	"net/http"
	"strings"
	"testing"
)

func do(t *testing.T, s *Server, method, path, body, user, pass string) int {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestValidation: the documented rules of POST /messages and /webhooks.
func TestValidation(t *testing.T) {
	s := New()
	defer s.Close()
	hundredOne := strings.TrimSuffix(strings.Repeat(`"+4917612345",`, 101), ",")
	for _, c := range []struct {
		path, body string
		status     int
	}{
		{"/messages", `{"textMessage":{"text":"hi"},"phoneNumbers":["+491761234567"]}`, 202},
		{"/messages", `{"id":"x1","textMessage":{"text":"hi"},"phoneNumbers":["+491761234567"]}`, 202},
		{"/messages", `{"id":"x1","textMessage":{"text":"hi"},"phoneNumbers":["+491761234567"]}`, 409},
		{"/messages", `{"dataMessage":{"data":"AAE=","port":53739},"phoneNumbers":["+491761234567"]}`, 202},
		{"/messages", `{"message":"legacy","phoneNumbers":["+491761234567"]}`, 202},
		{"/messages", `{"textMessage":{"text":"hi"},"dataMessage":{"data":"AAE=","port":1},"phoneNumbers":["+491761234567"]}`, 400},
		{"/messages", `{"phoneNumbers":["+491761234567"]}`, 400},
		{"/messages", `{"dataMessage":{"data":"!!","port":1},"phoneNumbers":["+491761234567"]}`, 400},
		{"/messages", `{"dataMessage":{"data":"AAE=","port":70000},"phoneNumbers":["+491761234567"]}`, 400},
		{"/messages", `{"textMessage":{"text":"hi"},"phoneNumbers":[]}`, 400},
		{"/messages", `{"textMessage":{"text":"hi"},"phoneNumbers":[` + hundredOne + `]}`, 400},
		{"/messages", `{"textMessage":{"text":"hi"},"phoneNumbers":["01761234567"]}`, 400},
		{"/messages?skipPhoneValidation=true", `{"textMessage":{"text":"hi"},"phoneNumbers":["01761234567"]}`, 202},
		{"/messages", `{"textMessage":{"text":"hi"},"phoneNumbers":["+491761234567"],"ttl":60,"validUntil":"2030-01-01T00:00:00Z"}`, 400},
		{"/messages", `{"textMessage":{"text":"hi"},"phoneNumbers":["+491761234567"],"simNumber":4}`, 400},
		{"/messages", `{"textMessage":{"text":"hi"},"phoneNumbers":["+491761234567"],"priority":128}`, 400},
		{"/messages", `{"id":"` + strings.Repeat("a", 37) + `","textMessage":{"text":"hi"},"phoneNumbers":["+491761234567"]}`, 400},
		{"/messages", `{`, 400},
		{"/webhooks", `{"url":"https://example.com/h","event":"sms:sent"}`, 201},
		{"/webhooks", `{"url":"http://127.0.0.1:9/h","event":"sms:sent"}`, 201},
		{"/webhooks", `{"url":"http://example.com/h","event":"sms:sent"}`, 400},
		{"/webhooks", `{"url":"https://example.com/h","event":"sms:nope"}`, 400},
	} {
		if got := do(t, s, "POST", c.path, c.body, DefaultUser, DefaultPassword); got != c.status {
			t.Errorf("POST %s %s: %d, want %d", c.path, c.body, got, c.status)
		}
	}
	if got := do(t, s, "GET", "/devices", "", DefaultUser, "wrong"); got != 401 {
		t.Errorf("bad password: %d", got)
	}
	if got := do(t, s, "GET", "/devices", "", "", ""); got != 401 {
		t.Errorf("no credentials: %d", got)
	}
	if got := do(t, s, "GET", "/health", "", "", ""); got != 200 {
		t.Errorf("health: %d", got)
	}
	if got := do(t, s, "GET", "/messages/x1", "", DefaultUser, DefaultPassword); got != 200 {
		t.Errorf("get: %d", got)
	}
	if got := do(t, s, "GET", "/messages/nope", "", DefaultUser, DefaultPassword); got != 404 {
		t.Errorf("get unknown: %d", got)
	}
	s.Flush()
	if got := do(t, s, "DELETE", "/messages/x1", "", DefaultUser, DefaultPassword); got != 409 {
		t.Errorf("delete delivered: %d", got)
	}
	s.SetDown(1)
	if got := do(t, s, "GET", "/devices", "", DefaultUser, DefaultPassword); got != 503 {
		t.Errorf("down: %d", got)
	}
	if got := do(t, s, "GET", "/devices", "", DefaultUser, DefaultPassword); got != 200 {
		t.Errorf("up again: %d", got)
	}
	if n := len(s.Messages()); n != 5 {
		t.Errorf("%d messages recorded, want 5", n)
	}
	for _, m := range s.Messages() {
		if m.State.State != "Delivered" {
			t.Errorf("message %s is %s", m.State.ID, m.State.State)
		}
	}
}
