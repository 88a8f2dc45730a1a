// wsclient: the shoppers' side of the waiting-room fan-out benchmark
// (bench/ws_fanout.py runs it; see there). Written in Go so that the load
// generator costs little next to daphne on the same two cores: reading 10,000
// websocket messages a second from Python took about as much CPU as daphne
// spent writing them, and the client's own lag would be measured as daphne's.
//
// It reads one fg_shopper cookie per line on stdin, opens one websocket per
// cookie (openAtOnce handshakes in flight), then:
//
//	prints {"event": "open", ...}           every socket is open
//	measures every tick for -seconds         (after 2 s for every socket to have one)
//	prints {"event": "measured", ...}        delays and gaps
//	waits for "ended <unix ms>" on stdin     (the script has ended the sale)
//	prints {"event": "told", ...}            when the last socket learned it
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

type tick struct {
	NowMs  float64 `json:"now_ms"`
	Status string  `json:"status"`
}

type watcher struct {
	delays   []float64
	gaps     []float64
	lastMs   float64
	closedAt atomic.Int64 // unix ms when it saw sold_out or ended, 0 until then
}

func nowMs() float64 { return float64(time.Now().UnixNano()) / 1e6 }

func emit(v map[string]any) {
	line, _ := json.Marshal(v)
	fmt.Println(string(line))
}

func percentile(values []float64, q float64) float64 {
	if len(values) == 0 {
		return -1
	}
	sort.Float64s(values)
	i := int(q * float64(len(values)))
	if i >= len(values) {
		i = len(values) - 1
	}
	return values[i]
}

func main() {
	url := flag.String("url", "", "websocket URL")
	origin := flag.String("origin", "http://127.0.0.1", "Origin header")
	seconds := flag.Int("seconds", 30, "seconds to measure")
	openAtOnce := flag.Int("open-at-once", 25, "handshakes in flight at a time")
	flag.Parse()

	var cookies []string
	stdin := bufio.NewScanner(os.Stdin)
	stdin.Buffer(make([]byte, 1<<20), 1<<20)
	for stdin.Scan() {
		line := strings.TrimSpace(stdin.Text())
		if line == "" {
			break // a blank line ends the cookies
		}
		cookies = append(cookies, line)
	}

	var measuring atomic.Bool
	var retried atomic.Int64
	var open atomic.Int64
	watchers := make([]*watcher, len(cookies))
	var mu sync.Mutex // guards a watcher's slices between its reader and the report
	dialer := websocket.Dialer{HandshakeTimeout: 60 * time.Second}
	slots := make(chan struct{}, *openAtOnce)
	started := time.Now()
	var opened sync.WaitGroup
	for i, cookie := range cookies {
		w := &watcher{}
		watchers[i] = w
		opened.Add(1)
		slots <- struct{}{}
		go func(cookie string) {
			header := http.Header{"Cookie": {cookie}, "Origin": {*origin}}
			var conn *websocket.Conn
			var err error
			for attempt := 0; attempt < 3; attempt++ {
				conn, _, err = dialer.Dial(*url, header)
				if err == nil {
					break
				}
				retried.Add(1)
				time.Sleep(time.Second)
			}
			<-slots
			if err != nil {
				fmt.Fprintln(os.Stderr, "a websocket failed to open:", err)
				os.Exit(2)
			}
			open.Add(1)
			opened.Done()
			for {
				_, raw, err := conn.ReadMessage()
				if err != nil {
					open.Add(-1)
					return
				}
				now := nowMs()
				var t tick
				if json.Unmarshal(raw, &t) != nil {
					continue
				}
				if measuring.Load() && w.closedAt.Load() == 0 && t.NowMs > 0 {
					mu.Lock()
					w.delays = append(w.delays, now-t.NowMs)
					if w.lastMs > 0 {
						w.gaps = append(w.gaps, now-w.lastMs)
					}
					w.lastMs = now
					mu.Unlock()
				}
				if (t.Status == "ended" || t.Status == "sold_out") && w.closedAt.Load() == 0 {
					w.closedAt.Store(int64(now))
				}
			}
		}(cookie)
	}
	opened.Wait()
	emit(map[string]any{"event": "open", "sockets": len(cookies), "seconds": time.Since(started).Seconds(), "handshakes_retried": retried.Load()})

	time.Sleep(2 * time.Second) // every socket has had a tick
	measuring.Store(true)
	time.Sleep(time.Duration(*seconds) * time.Second)
	measuring.Store(false)
	mu.Lock()
	var delays, gaps []float64
	for _, w := range watchers {
		delays = append(delays, w.delays...)
		gaps = append(gaps, w.gaps...)
	}
	mu.Unlock()
	median := percentile(delays, 0.5)
	emit(map[string]any{
		"event": "measured", "connected": open.Load(), "ticks_received": len(delays),
		"delay_p50_ms": median, "delay_p99_ms": percentile(delays, 0.99), "delay_max_ms": percentile(delays, 1),
		"gap_p99_ms": percentile(gaps, 0.99), "gap_max_ms": percentile(gaps, 1),
	})

	// The script ends the sale and says when: "ended <unix ms>".
	if !stdin.Scan() {
		return
	}
	fields := strings.Fields(stdin.Text())
	if len(fields) != 2 || fields[0] != "ended" {
		fmt.Fprintln(os.Stderr, "expected 'ended <unix ms>', got", stdin.Text())
		os.Exit(2)
	}
	endedMs, _ := strconv.ParseInt(fields[1], 10, 64)
	deadline := time.Now().Add(30 * time.Second)
	told, last := 0, int64(0)
	for time.Now().Before(deadline) {
		told, last = 0, 0
		for _, w := range watchers {
			if at := w.closedAt.Load(); at != 0 {
				told++
				if at > last {
					last = at
				}
			}
		}
		if told == len(watchers) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	result := map[string]any{"event": "told", "told_of_the_end": told, "end_to_last_told_s": nil}
	if told > 0 {
		result["end_to_last_told_s"] = float64(last-endedMs) / 1000
	}
	emit(result)
}
