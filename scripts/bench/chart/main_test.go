package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Outputs in the shapes the scripts print them.
var outputs = map[string]string{
	"factors": `
| workload | hms | peer | ratio (hms/peer) | target | pass |
|---|---|---|---|---|---|
| 100,000 random 64-bit numbers, 2 workers | 0.101 s (cpu 0.19) | GNU factor: 0.412 s (cpu 0.41) | 0.245x | <= 0.5x | yes |
| 10^7 … 1.1x10^7 (I/O bound) | 0.300 s | GNU factor: 0.250 s | 1.2x | <= 1x | NO |
| book's serial workload 10,000,000 … 10,000,999, per number | 0.412 µs | Python trial division (book): 0.310 s | 752,427x faster | >= 100,000x | yes |

2 CPUs, best of 3 runs each; wall seconds (cpu = user+sys seconds).
`,
	"sign": `sign:   480001 envelopes/s per CPU second ( 2083 ns),  3.6x raw HMAC-SHA256 of the same bytes ( 575 ns); wall:   8497 ns/op vs 2553
verify: 236034 envelopes/s per CPU second ( 4237 ns),  7.4x raw HMAC-SHA256 of the same bytes ( 575 ns); wall:  14733 ns/op vs 2553
data line: 295 bytes, envelope line: 516 bytes
sign    11.83s wall  3.12s cpu   84517 envelopes/s (wall)   320205 envelopes/s (per CPU second)
verify  12.51s wall  3.46s cpu   79911 envelopes/s (wall)   289101 envelopes/s (per CPU second)
emit     8.84s wall  3.42s cpu  113122 envelopes/s (wall)   292227 envelopes/s (per CPU second)
(load average: 1.00 2.00 3.00; other work on the machine makes wall figures noisy)
`,
	"amqp": `
RabbitMQ 3.10.8, 2 cores, 200-byte persistent messages, window 512, prefetch 500; best of 2 rounds
contender                         msg/s     hms vs raw   hms vs tools
publish raw amqp091-go            20000                              
publish hms-send                  23600          1.18x        116.00x
publish amqp-publish loop           203                              
consume raw amqp091-go            40000                              
consume hms-recv                  34000          0.85x         48.80x
consume amqp-consume                697                              
`,
	"store": `round  mode        raw docs/s   hms docs/s  ratio
1      id-field          9000         8600   0.96
1      new-ids           9000         7400   0.82
1      default           8000        10000   1.25
median id-field          9000         8600   0.96
median new-ids           9000         7400   0.82
median default           8000        10000   1.25
`,
	"cluster": `| workload (100000 random 64-bit numbers, 2 cores) | hms numbers/s | peer | peer numbers/s | ratio | target | pass |
|---|---|---|---|---|---|---|
| cluster: 2 workers, chunks of 1000, to results queue | 60000 | plain hms-factors | 100000 | 0.60x | >= 0.5x | yes |
| cluster: 2 workers, chunks of 1000, to results queue | 60000 | one process per number (book's local parallel) | 900 | 66.67x | > 1x | yes |
| cluster: 2 workers, chunks of 1000, into MongoDB (dev server) | 5000 | plain hms-factors | 100000 | 0.05x | (informative) | - |
`,
}

func TestRatiosThenSVG(t *testing.T) {
	dir := t.TempDir()
	for name, out := range outputs {
		if err := os.WriteFile(filepath.Join(dir, name+".out"), []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var table strings.Builder
	if err := run([]string{"ratios", dir}, nil, &table); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"| factors | 100,000 random 64-bit numbers, 2 workers | GNU factor | 0.101 s (cpu 0.19) | 0.412 s (cpu 0.41) | 0.245x | <= 0.5x | yes |",
		"| factors | book's serial workload 10,000,000 … 10,000,999, per number | Python trial division (book) | 0.412 µs | 0.310 s | 752,427x faster | >= 100,000x | yes |",
		"| sign | hms-sign sign end to end, 1 CPU, wall | target rate | 84,517 envelopes/s | 200,000 envelopes/s | 0.42x | >= 1x | NO |",
		"| sign | hms-sign verify end to end, 1 CPU, per CPU second | target rate | 289,101 envelopes/s | 200,000 envelopes/s | 1.45x | >= 1x | yes |",
		"| sign | go test -bench verify, ~300-byte data, 1 CPU (CPU time per envelope) | raw HMAC-SHA256 of the same bytes | 4237 ns (236,034/s) | 575 ns | 7.4x | (informative) | - |",
		"| amqp | publish: hms-send | raw amqp091-go | 23,600 msg/s | 20,000 msg/s | 1.18x | >= 0.9x | yes |",
		"| amqp | consume: hms-recv | amqp-consume | 34,000 msg/s | 697 msg/s | 48.80x | (retired) | - |",
		"| store | hms-store insert, new ObjectIds (--new-ids), median of 1 round | raw driver InsertMany | 7,400 docs/s | 9,000 docs/s | 0.82x | >= 0.8x | yes |",
		"| cluster | cluster: 2 workers, chunks of 1000, to results queue | one process per number (book's local parallel) | 60,000 numbers/s | 900 numbers/s | 66.67x | > 1x | yes |",
		"| cluster | cluster: 2 workers, chunks of 1000, into MongoDB (dev server) | plain hms-factors | 5,000 numbers/s | 100,000 numbers/s | 0.05x | (informative) | - |",
	}
	for _, w := range want {
		if !strings.Contains(table.String(), w+"\n") {
			t.Errorf("missing row\n%s\nin\n%s", w, table.String())
		}
	}
	if n := strings.Count(table.String(), "\n"); n != 2+3+6+4+3+3 {
		t.Errorf("%d lines, want %d:\n%s", n, 2+3+6+4+3+3, table.String())
	}

	doc := "# Benchmarks\n\n<!-- chart-subtitle: today & here -->\n\n" + table.String() + "\n## factors\n\n" + outputs["factors"]
	var svg strings.Builder
	if err := run([]string{"svg"}, strings.NewReader(doc), &svg); err != nil {
		t.Fatal(err)
	}
	// Well-formed XML, one bar per row with a target (not the informative ones).
	d := xml.NewDecoder(strings.NewReader(svg.String()))
	groups := 0
	for {
		tok, err := d.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("SVG is not well-formed XML: %v", err)
			}
			break
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "g" {
			groups++
		}
	}
	// (the amqp rows: one of four is the retired consume target, no bar)
	if groups != 3+4+3+3+2 {
		t.Errorf("%d bars, want %d", groups, 3+4+3+3+2)
	}
	for _, s := range []string{"today &amp; here", "752,427x", "10⁶x", "≥ 100,000x ✓", "≤ 1x ✗", "0.245x", "66.67x"} {
		if !strings.Contains(svg.String(), s) {
			t.Errorf("SVG lacks %q", s)
		}
	}
}

func TestParseRatioTarget(t *testing.T) {
	for s, want := range map[string]float64{"0.41x": 0.41, "1.2e+03x": 1200, "1,234,567x faster": 1234567, "0.96": 0.96} {
		if v, ok := parseRatio(s); !ok || v != want {
			t.Errorf("parseRatio(%q) = %v, %v", s, v, ok)
		}
	}
	for _, s := range []string{"", "-", "x", "0x", "(informative)"} {
		if _, ok := parseRatio(s); ok {
			t.Errorf("parseRatio(%q) ok", s)
		}
	}
	if op, v, ok := parseTarget(">= 100,000x"); !ok || op != ">=" || v != 100000 {
		t.Errorf("parseTarget: %q %v %v", op, v, ok)
	}
	if _, _, ok := parseTarget("(informative)"); ok {
		t.Error("parseTarget((informative)) ok")
	}
}

// bench-amqp's quorum rows (on a cluster) compare hms with raw amqp091-go
// only: their "hms vs tools" column is blank.
func TestAMQPQuorumRows(t *testing.T) {
	out := `
RabbitMQ 3.10.8, 2 cores, 200-byte persistent messages, window 512, prefetch 500; best of 2 rounds
quorum rows: 50000 messages, quorum queues of a 3-node cluster on the same machine
contender                             msg/s     hms vs raw   hms vs tools
publish raw amqp091-go                20000                              
publish hms-send                      23600          1.18x        116.26x
publish amqp-publish loop               203                              
consume raw amqp091-go                40000                              
consume hms-recv                      34000          0.85x         48.78x
consume amqp-consume                    697                              
quorum publish raw amqp091-go          5200                              
quorum publish hms-send                4940          0.95x               
quorum consume raw amqp091-go         15000                              
quorum consume hms-recv               12000          0.80x               
`
	want := []Row{
		{"amqp", "publish: hms-send", "raw amqp091-go", "23,600 msg/s", "20,000 msg/s", "1.18x", ">= 0.9x", "yes"},
		{"amqp", "publish: hms-send", "amqp-publish loop", "23,600 msg/s", "203 msg/s", "116.26x", ">= 50x", "yes"},
		{"amqp", "consume: hms-recv", "raw amqp091-go", "34,000 msg/s", "40,000 msg/s", "0.85x", ">= 0.9x", "NO"},
		{"amqp", "consume: hms-recv", "amqp-consume", "34,000 msg/s", "697 msg/s", "48.78x", "(retired)", "-"},
		{"amqp", "publish: hms-send, quorum queues of a 3-node cluster", "raw amqp091-go", "4,940 msg/s", "5,200 msg/s", "0.95x", ">= 0.9x", "yes"},
		{"amqp", "consume: hms-recv, quorum queues of a 3-node cluster", "raw amqp091-go", "12,000 msg/s", "15,000 msg/s", "0.80x", ">= 0.9x", "NO"},
	}
	got := parse("amqp", out)
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d:\n%s", len(got), len(want), markdown(got))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	// Without the "quorum rows:" line, the rows still say what they are.
	got = parse("amqp", strings.Replace(out, "quorum rows:", "(no description)", 1))
	if len(got) != len(want) || got[4].Workload != "publish: hms-send, quorum queues" {
		t.Errorf("without the quorum rows line:\n%s", markdown(got))
	}
	// Drawn: one bar per row, the quorum ones included.
	var svgOut strings.Builder
	if err := run([]string{"svg"}, strings.NewReader(markdown(got)), &svgOut); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(svgOut.String(), "<g>"); n != len(want)-1 { // not the retired one
		t.Errorf("%d bars, want %d", n, len(want)-1)
	}
}
