package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store/sqlite"
)

func TestOrdersHandlerSendsInItsTransaction(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, ":memory:")
	is.NoErr(err)
	defer st.Close()
	nh, err := nahook.New(st, nahook.Config{})
	is.NoErr(err)
	defer nh.Close()
	ws, err := setup(ctx, nh)
	is.NoErr(err)
	sh, err := openShop(ctx, st)
	is.NoErr(err)

	order := func(body string) (int, []string) {
		rec := httptest.NewRecorder()
		orders(nh, ws, sh).ServeHTTP(rec, httptest.NewRequest("POST", "/orders", strings.NewReader(body)))
		var got struct{ Notify []nahook.EndpointID }
		json.Unmarshal(rec.Body.Bytes(), &got)
		var urls []string
		for _, id := range got.Notify {
			ep, err := nh.Endpoints.Get(ctx, ws, id)
			is.NoErr(err)
			urls = append(urls, ep.URL)
		}
		return rec.Code, urls
	}
	stored := func() (n int) {
		is.NoErr(st.DB().QueryRowContext(ctx, `SELECT count(*) FROM shop_orders`).Scan(&n))
		return n
	}
	status, notify := order(`{"customer": "cust_123", "total": 4200}`)
	is.Equal(status, http.StatusCreated)
	is.Equal(notify, []string{"https://acme.example/webhooks"}) // Acme hears of Acme's order, and only Acme
	status, notify = order(`{"customer": "cust_456", "total": 99}`)
	is.Equal(status, http.StatusCreated)
	is.Equal(notify, []string{"https://globex.example/hooks"}) // Globex of Globex's
	is.Equal(stored(), 2)
	status, _ = order(`{"customer": "nobody"}`)
	is.Equal(status, http.StatusNotFound) // an unknown customer hears nothing
	is.Equal(stored(), 2)                 // and its order rolled back with the event

	page, err := nh.Deliveries.List(ctx, ws, nahook.DeliveryFilter{}, nahook.ListOptions{Limit: 10})
	is.NoErr(err)
	is.Equal(len(page.Items), 2) // one pending delivery per order committed
}
