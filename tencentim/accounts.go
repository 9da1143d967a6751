package tencentim

// ---- accounts (spec §3) ----

// AccountImportRequest is v4/im_open_login_svc/account_import (spec §3.4).
type AccountImportRequest struct {
	UserID  string `json:"UserID"`
	Nick    string `json:"Nick,omitempty"`
	FaceURL string `json:"FaceUrl,omitempty"`
}

// AccountImportResponse is the envelope only.
type AccountImportResponse struct {
	Envelope
}

// MultiAccountImportRequest is v4/im_open_login_svc/multiaccount_import (spec §3.5).
type MultiAccountImportRequest struct {
	Accounts []string `json:"Accounts"`
}

// MultiAccountImportResponse lists the accounts that failed.
type MultiAccountImportResponse struct {
	Envelope
	FailAccounts []string `json:"FailAccounts"`
}

// AccountCheckItem names one account in account_check.
type AccountCheckItem struct {
	UserID string `json:"UserID"`
}

// AccountCheckRequest is v4/im_open_login_svc/account_check (spec §3.6).
type AccountCheckRequest struct {
	CheckItem []AccountCheckItem `json:"CheckItem"`
}

// Account status values of account_check.
const (
	AccountImported    = "Imported"
	AccountNotImported = "NotImported"
)

// AccountCheckResult is one ResultItem of account_check.
type AccountCheckResult struct {
	UserID        string `json:"UserID"`
	ResultCode    int    `json:"ResultCode"`
	ResultInfo    string `json:"ResultInfo"`
	AccountStatus string `json:"AccountStatus"`
}

// AccountCheckResponse is the answer of account_check.
type AccountCheckResponse struct {
	Envelope
	ResultItem []AccountCheckResult `json:"ResultItem"`
}

// AccountDeleteRequest is v4/im_open_login_svc/account_delete (spec §3.7).
type AccountDeleteRequest struct {
	DeleteItem []AccountCheckItem `json:"DeleteItem"`
}

// AccountDeleteResult is one ResultItem of account_delete.
type AccountDeleteResult struct {
	UserID     string `json:"UserID"`
	ResultCode int    `json:"ResultCode"`
	ResultInfo string `json:"ResultInfo"`
}

// AccountDeleteResponse is the answer of account_delete.
type AccountDeleteResponse struct {
	Envelope
	ResultItem []AccountDeleteResult `json:"ResultItem"`
}
