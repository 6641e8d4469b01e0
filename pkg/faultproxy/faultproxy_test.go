package faultproxy

import (
	"bufio"
	"io"
	"net"
	"testing"
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
