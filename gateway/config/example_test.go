package config_test

import (
	"fmt"

	"github.com/smppkit/smpp/gateway/config"
)

// Load merges the defaults, the file, the environment and the flags, and
// reports every fault at once.
func ExampleLoad() {
	env := []string{"PATH=/usr/bin", "LOG__LEVEL=debug", "HTTP__ADDRESS=127.0.0.1:8080"}
	cfg, err := config.Load("", env, config.Overrides{HTTPAddr: "127.0.0.1:9090", DataDir: "/var/lib/smppd"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Log.Level, cfg.HTTP.Address, cfg.Store.Path, cfg.Routes.Default)

	_, err = config.Load("", []string{"SMPP__BIND_ADDRESS=localhost", "SMPP__WINDOW=10"}, config.Overrides{})
	fmt.Println(err)
	// Output:
	// debug 127.0.0.1:9090 /var/lib/smppd/smppd.db simulator
	// config: env SMPP__WINDOW: unknown key "smpp.window" (known keys in smpp: bind_address, tls_address, tls_cert, tls_key, tls_client_ca, system_id, inbound_window, outbound_window, enquire_link_interval, inactivity_timeout, bind_timeout, response_timeout, max_pdu_length, max_sessions, lenient)
	// config: env SMPP__BIND_ADDRESS: smpp.bind_address: "localhost" is not host:port
}

// The SMSGate pass-through of android-sms-gateway's smpp-server: its
// variables alone configure smppd the same way.
func ExampleConfig_PassThrough() {
	env := []string{"GATEWAY__API_BASE_URL=https://api.sms-gate.app/3rdparty/v1", "SMPP__BIND_ADDRESS=0.0.0.0:2775"}
	cfg, err := config.Load("", env, config.Overrides{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.PassThrough(), cfg.Routes.Default)
	// Output: true smsgate
}
