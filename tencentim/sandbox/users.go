package sandbox

// userStore holds accounts, profiles, friends, C2C messages and conversations.
type userStore struct{}
