package store

import (
	"errors"
	"strings"
	"testing"
)

func TestDuplicate(t *testing.T) {
	cause := errors.New("driver")
	seen := map[string]bool{}
	for rule := UniqueUnknown; rule <= UniquePortalSessionHash; rule++ {
		err := Duplicate(rule, cause)
		if !errors.Is(err, ErrConflict) || !errors.Is(err, cause) {
			t.Errorf("Duplicate(%d) = %v: not ErrConflict wrapping its cause", rule, err)
		}
		if err.Message == "" || seen[err.Message] {
			t.Errorf("Duplicate(%d): message %q is empty or another rule's", rule, err.Message)
		}
		seen[err.Message] = true
	}
	if got := Duplicate(Unique(99), cause); got.Message != uniqueRules[UniqueUnknown].message {
		t.Errorf("Duplicate of an unknown rule says %q", got.Message)
	}
	if got := Duplicate(UniqueEnvironmentSlug, cause); got.Field != "slug" {
		t.Errorf("Duplicate(UniqueEnvironmentSlug).Field = %q, want slug", got.Field)
	}
}

func TestMissingNamesTheResource(t *testing.T) {
	for _, tc := range []struct {
		err  *Error
		want string
	}{
		{Missing("workspaceId", WorkspaceID("ws_1")), `workspace "ws_1" not found`},
		{Missing("", EnvironmentID("env_1")), `environment "env_1" not found`},
		{Missing("", ApplicationID("app_1")), `application "app_1" not found`},
		{Missing("eventTypeId", EventTypeID("evt_1")), `event type "evt_1" not found`},
		{Missing("", EndpointID("ep_1")), `endpoint "ep_1" not found`},
		{Missing("", APIKeyID("key_1")), `API key "key_1" not found`},
		{Missing("", PortalSessionID("ps_1")), `portal session "ps_1" not found`},
		{Missing("", EventID("msg_1")), `event "msg_1" not found`},
		{Missing("", DeliveryID("dlv_1")), `delivery "dlv_1" not found`},
		{Dangling[EnvironmentID]("environmentId", nil), `environment not found`},
		{Dangling[string]("", nil), `resource not found`},
	} {
		if !errors.Is(tc.err, ErrNotFound) || tc.err.Message != tc.want {
			t.Errorf("%v: want ErrNotFound saying %q", tc.err, tc.want)
		}
	}
}

func TestChecks(t *testing.T) {
	if err := CheckEnvironmentLimit(MaxEnvironments - 1); err != nil {
		t.Errorf("CheckEnvironmentLimit below the limit = %v", err)
	}
	if err := CheckEnvironmentLimit(MaxEnvironments); !errors.Is(err, ErrLimitExceeded) {
		t.Errorf("CheckEnvironmentLimit at the limit = %v", err)
	}
	if err := CheckEndpointLimit(2, 3); err != nil {
		t.Errorf("CheckEndpointLimit below the limit = %v", err)
	}
	if err := CheckEndpointLimit(3, 3); !errors.Is(err, ErrLimitExceeded) || !strings.Contains(err.Error(), "3 endpoints") {
		t.Errorf("CheckEndpointLimit at the limit = %v", err)
	}
	if err := CheckEndpointLimit(1000, 0); err != nil {
		t.Errorf("CheckEndpointLimit without a limit = %v", err)
	}
	if err := CheckRetryable(DeliveryFailed); err != nil {
		t.Errorf("CheckRetryable(failed) = %v", err)
	}
	for _, s := range []DeliveryStatus{DeliveryPending, DeliverySucceeded} {
		if err := CheckRetryable(s); !errors.Is(err, ErrConflict) {
			t.Errorf("CheckRetryable(%s) = %v, want ErrConflict", s, err)
		}
	}
}
