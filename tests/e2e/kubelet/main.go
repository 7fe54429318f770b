// A fake kubelet for the exec, attach and port-forward end-to-end tests: the kubelet's own
// streaming server code (k8s.io/cri-streaming, what the kubelet and CRI runtimes serve exec
// with) over a fake runtime that runs the command for real in a scratch folder and connects
// port-forwards to 127.0.0.1:PORT. The API server translates a client's WebSocket into SPDY
// toward it (exec, attach) or passes a WebSocket through (port-forward).
//
// It serves HTTPS on 127.0.0.1 with a throw-away self-signed certificate (the API server is
// not given a kubelet CA in these tests) and prints "READY {\"port\":N}" once listening. It
// exits when its stdin closes, so it never outlives the test run.
//
// Routes, as the API server calls them:
//
//	/exec/{namespace}/{pod}/{container}?command=...&stdin=1&stdout=1&stderr=1&tty=1
//	/attach/{namespace}/{pod}/{container}?...
//	/portForward/{namespace}/{pod}?ports=N
//
// With a tty there is no real terminal: stderr joins stdout, and each resize is written to
// the output as a line "resize WxH", so tests can see resizes arrive.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"k8s.io/cri-streaming/pkg/streaming/portforward"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"
)

type runtime struct{ scratch string }

func (r *runtime) ExecInContainer(ctx context.Context, pod, uid, container string, cmd []string,
	in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize,
	timeout time.Duration) error {
	if len(cmd) == 0 {
		return errors.New("no command")
	}
	c := exec.CommandContext(ctx, cmd[0], cmd[1:]...)
	c.Dir = r.scratch
	if in != nil {
		// Our own copy, which Wait does not wait for: a client that never closes stdin must
		// not keep the exit status from being sent once the process has exited (as with a
		// real runtime, where the process's end ends the exec).
		pw, err := c.StdinPipe()
		if err != nil {
			return err
		}
		go func() { io.Copy(pw, in); pw.Close() }()
	}
	c.Stdout = out
	c.Stderr = errw
	if tty {
		c.Stderr = out
		if resize != nil && out != nil {
			go func() {
				for s := range resize {
					fmt.Fprintf(out, "resize %dx%d\n", s.Width, s.Height)
				}
			}()
		}
	}
	err := c.Run()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && exitErr.Exited() {
		return utilexec.CodeExitError{Err: err, Code: exitErr.ExitCode()}
	}
	return err
}

func (r *runtime) AttachContainer(ctx context.Context, pod, uid, container string, in io.Reader,
	out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	// The "main process" prints one line and ends.
	if out != nil {
		fmt.Fprintf(out, "attached to %s/%s\n", pod, container)
	}
	return nil
}

func (r *runtime) PortForward(ctx context.Context, pod, uid string, port int32,
	stream io.ReadWriteCloser) error {
	defer stream.Close()
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return fmt.Errorf("failed to connect to localhost:%d inside namespace of pod %s: %v",
			port, pod, err)
	}
	defer conn.Close()
	done := make(chan struct{}, 2)
	go func() { io.Copy(conn, stream); conn.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	go func() { io.Copy(stream, conn); done <- struct{}{} }()
	<-done
	return nil
}

func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "fake-kubelet"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(48 * time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func main() {
	scratch, err := os.MkdirTemp("", "fake-kubelet-")
	if err != nil {
		panic(err)
	}
	rt := &runtime{scratch: scratch}
	const idle = 4 * time.Hour
	const creation = remotecommand.DefaultStreamCreationTimeout
	mux := http.NewServeMux()
	mux.HandleFunc("/exec/{ns}/{pod}/{container}", func(w http.ResponseWriter, r *http.Request) {
		opts, err := remotecommand.NewOptions(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		remotecommand.ServeExec(w, r, rt, r.PathValue("pod"), "", r.PathValue("container"),
			r.URL.Query()["command"], opts, idle, creation,
			remotecommand.SupportedStreamingProtocols)
	})
	mux.HandleFunc("/attach/{ns}/{pod}/{container}", func(w http.ResponseWriter, r *http.Request) {
		opts, err := remotecommand.NewOptions(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		remotecommand.ServeAttach(w, r, rt, r.PathValue("pod"), "", r.PathValue("container"),
			opts, idle, creation, remotecommand.SupportedStreamingProtocols)
	})
	mux.HandleFunc("/portForward/{ns}/{pod}", func(w http.ResponseWriter, r *http.Request) {
		opts, err := portforward.NewV4Options(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		portforward.ServePortForward(w, r, rt, r.PathValue("pod"), "", opts, idle, creation,
			portforward.SupportedProtocols)
	})
	cert, err := selfSigned()
	if err != nil {
		panic(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &http.Server{
		Handler:   mux,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}},
	}
	info, _ := json.Marshal(map[string]int{"port": ln.Addr().(*net.TCPAddr).Port})
	fmt.Printf("READY %s\n", info)
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.RemoveAll(scratch)
		os.Exit(0)
	}()
	err = srv.ServeTLS(ln, "", "")
	if err != nil && !strings.Contains(err.Error(), "closed") {
		panic(err)
	}
}
