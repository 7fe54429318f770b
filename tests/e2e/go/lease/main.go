// A leader-election contender built on client-go's leaderelection package, for the
// end-to-end test that incluster and client-go contend for one Lease (tests/e2e/test_lease.py).
//
// It logs its leadership intervals to -log as "NAME start|end UNIXTIME" lines, and exits
// when leadership ends: cleanly (releasing the Lease, ReleaseOnCancel) once the -stop file
// exists, or after losing it. The connection comes from the simulated pod's environment:
// KUBERNETES_SERVICE_HOST/PORT and the ServiceAccount directory in
// INCLUSTER_SERVICEACCOUNT_DIR (client-go's InClusterConfig only knows the fixed path).
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
	corev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

func logLine(path, name, what string) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	fmt.Fprintf(f, "%s %s %.6f\n", name, what, float64(time.Now().UnixNano())/1e9)
	f.Close()
}

func main() {
	name := flag.String("name", "", "the Lease")
	namespace := flag.String("namespace", "", "its namespace")
	identity := flag.String("identity", "go", "this contender's identity")
	logPath := flag.String("log", "", "where to append the leadership intervals")
	stop := flag.String("stop", "", "exit cleanly once this file exists")
	duration := flag.Duration("duration", 15*time.Second, "lease duration")
	renew := flag.Duration("renew-deadline", 10*time.Second, "renew deadline")
	retry := flag.Duration("retry-period", 2*time.Second, "retry period")
	flag.Parse()

	sa := os.Getenv("INCLUSTER_SERVICEACCOUNT_DIR")
	cfg := &rest.Config{
		Host: "https://" + net.JoinHostPort(os.Getenv("KUBERNETES_SERVICE_HOST"),
			os.Getenv("KUBERNETES_SERVICE_PORT")),
		BearerTokenFile: filepath.Join(sa, "token"),
		TLSClientConfig: rest.TLSClientConfig{CAFile: filepath.Join(sa, "ca.crt")},
	}
	coord, err := coordinationv1.NewForConfig(cfg)
	if err != nil {
		panic(err)
	}
	core, err := corev1.NewForConfig(cfg)
	if err != nil {
		panic(err)
	}
	lock, err := resourcelock.New(resourcelock.LeasesResourceLock, *namespace, *name, core, coord,
		resourcelock.ResourceLockConfig{Identity: *identity})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	leading := false
	leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   *duration,
		RenewDeadline:   *renew,
		RetryPeriod:     *retry,
		ReleaseOnCancel: true,
		Name:            *name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) {
				leading = true
				logLine(*logPath, *identity, "start")
				for {
					select {
					case <-lctx.Done():
						return
					case <-time.After(50 * time.Millisecond):
					}
					if _, err := os.Stat(*stop); err == nil {
						// The interval ends before the release that cancel() starts.
						logLine(*logPath, *identity, "end")
						leading = false
						cancel()
						return
					}
				}
			},
			OnStoppedLeading: func() {
				if leading {
					logLine(*logPath, *identity, "end")
				}
				fmt.Fprintf(os.Stderr, "%s: stopped leading\n", *identity)
			},
			OnNewLeader: func(id string) {
				fmt.Fprintf(os.Stderr, "%s: the leader is %s\n", *identity, id)
			},
		},
	})
}
