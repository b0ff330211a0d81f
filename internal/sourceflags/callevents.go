package sourceflags

import (
	"errors"
	"fmt"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/callevents"
)

// callEvents builds --source callevents: callevents.Config from the flags.
func (f *Flags) callEvents(b *Built, env Env) error {
	if f.Endpoint == "" {
		return errors.New("--source callevents needs --endpoint, the PBX, such as https://pbx.example.com (port 9443 unless given)")
	}
	if _, err := ParseEndpoint("--endpoint", f.Endpoint, "https://pbx.example.com"); err != nil {
		return err
	}
	if f.username == "" || f.domain == "" {
		return errors.New("--source callevents needs --username and --domain (the account's realm, such as example.com)")
	}
	password := f.password
	if password == "" {
		password = env.Getenv(EnvCallEventsPassword)
	}
	if password == "" {
		return fmt.Errorf("no password: pass --password or set %s", EnvCallEventsPassword)
	}
	cfg := callevents.Config{
		BaseURL: f.Endpoint, Username: f.username, Password: password, Domain: f.domain,
		Accounts: splitList(f.accounts), Events: splitList(f.events), TokenInQuery: f.tokenInQuery,
	}
	if f.CA != "" {
		pool, err := loadPool(f.CA)
		if err != nil {
			return err
		}
		cfg.RootCAs = pool
	}
	spec, err := callevents.Spec(cfg)
	if err != nil {
		return errors.New(trimSource(err, "callevents: "))
	}
	b.Options = append(b.Options, firehose.WithSource(spec))
	b.Where = f.domain
	return nil
}
