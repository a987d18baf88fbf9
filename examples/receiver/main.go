// Command receiver is a webhook receiver for trying nahook out: it checks
// each delivery's Standard Webhooks signature with the endpoint's secret
// and prints it.
//
//	go run ./examples/receiver -secret whsec_…   # listens on localhost:9000
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/nahook/nahook"
)

func main() {
	addr := flag.String("addr", "localhost:9000", "listen address")
	secret := flag.String("secret", os.Getenv("NAHOOK_ENDPOINT_SECRET"), "the endpoint's signing secret, whsec_… (env NAHOOK_ENDPOINT_SECRET)")
	flag.Parse()
	if *secret == "" {
		log.Fatal("receiver: -secret is required: GET /management/v1/workspaces/{workspaceId}/endpoints/{endpointId}/secret")
	}
	srv := &http.Server{Addr: *addr, Handler: handler(*secret, os.Stdout), ReadHeaderTimeout: 10 * time.Second}
	log.Printf("receiver: listening on http://%s/webhooks", *addr)
	log.Fatal(srv.ListenAndServe())
}

// handler verifies and prints each webhook. A delivery it refuses (401)
// or fails (5xx) is retried by nahook; one it answers 2xx is done.
func handler(secret string, out io.Writer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := nahook.Verify(secret, r.Header, body, 0); err != nil {
			fmt.Fprintf(out, "REFUSED %s: %v\n", r.Header.Get("webhook-id"), err)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(out, "verified %s %s %s\n", r.Header.Get("webhook-id"), r.Header.Get("nahook-event-type"), body)
		w.WriteHeader(http.StatusNoContent)
	})
}
