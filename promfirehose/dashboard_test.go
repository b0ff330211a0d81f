package promfirehose

import (
	"bufio"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

const dashboard = "../examples/grafana/firehose-dashboard.json"

var (
	metricRef = regexp.MustCompile(`\b(?:firehose|messaging_client)_[a-z0-9_]+\b`)
	byClause  = regexp.MustCompile(`\bby \(([^)]*)\)`)
	matcher   = regexp.MustCompile(`([a-z_]+)\s*(?:=~|!~|!=|=)\s*"`)
	labelArg  = regexp.MustCompile(`label_values\([^,]*,\s*([a-z_]+)\)`)
)

// goldenNames reads the series names and label names of the golden exposition.
func goldenNames(t *testing.T) (names, labels map[string]bool) {
	t.Helper()
	f, err := os.Open(golden)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names, labels = map[string]bool{}, map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, _ := strings.Cut(line, "{")
		names[strings.Fields(name)[0]] = true
		for _, m := range matcher.FindAllStringSubmatch(rest, -1) {
			labels[m[1]] = true
		}
	}
	return names, labels
}

// queries returns every PromQL string of the dashboard: targets' expr and
// template variables' queries.
func queries(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(dashboard)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", dashboard, err)
	}
	var out []string
	var walk func(v any, key string)
	walk = func(v any, key string) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(x, k)
			}
		case []any:
			for _, x := range v {
				walk(x, key)
			}
		case string:
			if key == "expr" || key == "query" || key == "definition" {
				out = append(out, v)
			}
		}
	}
	walk(doc, "")
	return out
}

// TestDashboardReferencesExist: every metric and label the dashboard's
// queries name is in the golden exposition.
func TestDashboardReferencesExist(t *testing.T) {
	names, labels := goldenNames(t)
	qs := queries(t)
	if len(qs) < 10 {
		t.Fatalf("only %d queries found in %s", len(qs), dashboard)
	}
	used := map[string]bool{}
	for _, q := range qs {
		for _, n := range metricRef.FindAllString(q, -1) {
			used[n] = true
			if !names[n] {
				t.Errorf("query %q: metric %s is not in %s", q, n, golden)
			}
		}
		var ls []string
		for _, m := range byClause.FindAllStringSubmatch(q, -1) {
			for _, l := range strings.Split(m[1], ",") {
				ls = append(ls, strings.TrimSpace(l))
			}
		}
		for _, m := range matcher.FindAllStringSubmatch(q, -1) {
			ls = append(ls, m[1])
		}
		for _, m := range labelArg.FindAllStringSubmatch(q, -1) {
			ls = append(ls, m[1])
		}
		for _, l := range ls {
			if !labels[l] {
				t.Errorf("query %q: label %s is not in %s", q, l, golden)
			}
		}
	}
	// The dashboard covers what the issue asks for.
	for _, n := range []string{"firehose_events_total", "firehose_lag_seconds", "firehose_reconnects_total",
		"firehose_gaps_total", "firehose_discarded_total", "messaging_client_consumed_messages_total"} {
		if !used[n] {
			t.Errorf("the dashboard does not show %s", n)
		}
	}
}
