package calleventstest

import "strings"

// Account is one account of the server's multi-tenant tree (KAZOO's master → reseller → customer).
// A login whose username and password match an account's, and whose domain is that account's Realm
// or Name, logs in as that account; its token then sees the account and all its descendants.
type Account struct {
	// ID is the account id: by convention 32 lower-case hex digits, as KAZOO's. It appears in the
	// token's identity claim and in every event of the account (Account-ID, account_id).
	ID string
	// Name is the account's name: the second half of the token's identity claim ("<id>:<name>").
	Name string
	// Realm is the account's own realm/domain (a login's "domain" may name it, or Name).
	Realm string
	// Parent is the ID of the parent account; empty for the root.
	Parent string
	// Username and Password are the credentials of the account's one API user. An account with an
	// empty Username cannot log in.
	Username, Password string
}

// The default tree (DefaultAccounts): a master account with a reseller below it, a customer below
// the reseller, and a second customer directly below the master. So the reseller's subtree holds
// itself and CustomerAccount, and OtherAccount is foreign to it.
const (
	RootAccount     = "a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0"
	ResellerAccount = "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1"
	CustomerAccount = "c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2"
	OtherAccount    = "d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3"
)

// DefaultAccounts returns the default tree, a fresh slice each time:
//
//	RootAccount      "Master"   realm master.test    user admin / adminpassword
//	├─ ResellerAccount "Reseller" realm reseller.test  user reseller / resellerpassword
//	│  └─ CustomerAccount "Customer" realm customer.test user customer / customerpassword
//	└─ OtherAccount    "Other"    realm other.test     user other / otherpassword
func DefaultAccounts() []Account {
	return []Account{
		{ID: RootAccount, Name: "Master", Realm: "master.test", Username: "admin", Password: "adminpassword"},
		{ID: ResellerAccount, Name: "Reseller", Realm: "reseller.test", Parent: RootAccount, Username: "reseller", Password: "resellerpassword"},
		{ID: CustomerAccount, Name: "Customer", Realm: "customer.test", Parent: ResellerAccount, Username: "customer", Password: "customerpassword"},
		{ID: OtherAccount, Name: "Other", Realm: "other.test", Parent: RootAccount, Username: "other", Password: "otherpassword"},
	}
}

// tree indexes the accounts by id.
type tree struct {
	list []Account
	byID map[string]int
}

func newTree(accts []Account) *tree {
	t := &tree{list: append([]Account(nil), accts...), byID: make(map[string]int, len(accts))}
	for i, a := range t.list {
		t.byID[a.ID] = i
	}
	return t
}

// login returns the account whose credentials and realm or name match, if any.
func (t *tree) login(username, password, domain string) (Account, bool) {
	for _, a := range t.list {
		if a.Username == "" || a.Username != username || a.Password != password {
			continue
		}
		if strings.EqualFold(domain, a.Realm) || domain == a.Name {
			return a, true
		}
	}
	return Account{}, false
}

// within reports whether id is root or one of its descendants. A cycle in the Parent links ends
// the walk.
func (t *tree) within(id, root string) bool {
	for steps := 0; steps <= len(t.list); steps++ {
		if id == root {
			return true
		}
		i, ok := t.byID[id]
		if !ok || t.list[i].Parent == "" {
			return false
		}
		id = t.list[i].Parent
	}
	return false
}

// account returns the account with id.
func (t *tree) account(id string) (Account, bool) {
	i, ok := t.byID[id]
	if !ok {
		return Account{}, false
	}
	return t.list[i], true
}
