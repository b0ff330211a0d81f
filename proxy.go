package firehose

import (
	"net/http"
	"net/url"

	"golang.org/x/net/http/httpproxy"
)

// proxyFunc reads HTTPS_PROXY, HTTP_PROXY and NO_PROXY when a connector is
// made (net/http's ProxyFromEnvironment reads them once per process), for
// every transport.
func proxyFunc() func(*http.Request) (*url.URL, error) {
	f := httpproxy.FromEnvironment().ProxyFunc()
	return func(r *http.Request) (*url.URL, error) { return f(r.URL) }
}
