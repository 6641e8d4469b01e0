package faultproxy

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"
)

func echoServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

func TestForwardAndCut(t *testing.T) {
	p, err := Start(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	c.Write([]byte("hello\n"))
	if line, err := r.ReadString('\n'); err != nil || line != "hello\n" {
		t.Fatalf("echo: %q %v", line, err)
	}
	if n := p.CutAll(); n != 1 {
		t.Fatalf("CutAll = %d", n)
	}
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("read after cut succeeded")
	}

	p.CutAfter(100, 1)
	c2, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	go c2.Write(make([]byte, 1000))
	if _, err := io.ReadAll(c2); err != nil && err != io.EOF {
		t.Logf("read: %v", err)
	}
	if p.Cuts() != 2 {
		t.Fatalf("cuts = %d", p.Cuts())
	}
	// Only one connection was to be cut: the next one lives.
	c3, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	r3 := bufio.NewReader(c3)
	c3.Write(append(make([]byte, 300), '\n'))
	if line, err := r3.ReadString('\n'); err != nil || len(line) != 301 {
		t.Fatalf("third connection: %d %v", len(line), err)
	}
	c3.Close()
}

// Stall holds bytes without closing anything; Resume delivers them.
func TestStall(t *testing.T) {
	p, err := Start(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p.Stall()
	c.Write([]byte("ping"))
	for deadline := time.Now().Add(10 * time.Second); p.Held() < 4; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("held %d bytes", p.Held())
		}
	}
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := c.Read(make([]byte, 4)); n != 0 || err == nil {
		t.Fatalf("read %d bytes while stalled (%v)", n, err)
	}
	p.Resume()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, 4)
	if _, err := io.ReadFull(c, b); err != nil || string(b) != "ping" {
		t.Fatalf("after Resume: %q %v", b, err)
	}
}
