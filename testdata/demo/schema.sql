-- The legacy chat platform's schema: the PostgreSQL side of immigrate's demo
-- dataset (testdata/demo) and of `immigrate generate --pg`. Tables are created in
-- the current search_path; the generator creates a schema and sets it first.
--
-- There are no keys or constraints on purpose: a legacy database holds duplicates
-- and dangling references, and the validate report is where they must show.

CREATE TABLE users (
    id          text,          -- the legacy user id, becomes the TIM UserID
    nickname    text,
    avatar_url  text,
    created_at  timestamptz,
    gender      text,          -- f | m (profile fields: NULL unless generated with profiles)
    birthday    date,
    kind        text,          -- bot | guest | human
    active      text           -- 0 for a deactivated user, else 1
);

CREATE TABLE chat_groups (
    id          text,
    owner_id    text,
    group_type  text,          -- public | private | meeting | community | broadcast
    name        text,
    intro       text,
    notice      text,
    avatar_url  text,
    max_members integer,
    created_at  timestamptz
);

CREATE TABLE group_members (
    group_id     text,
    user_id      text,
    role         text,         -- owner | admin | moderator | member
    joined_at    timestamptz,
    unread_count integer       -- NULL: unknown
);

-- Group messages have group_id, one-to-one messages recipient_id. Ids are one
-- sequence for both.
CREATE TABLE messages (
    id           bigint,
    group_id     text,
    sender_id    text,
    recipient_id text,
    created_at   timestamptz,
    msg_type     text,         -- text | sticker | like | location | card | image | file | voice | video
    content      text,
    extra        text          -- kind-specific payload: a JSON document, a sticker index, a video thumbnail URL
);

-- Media of image, file, voice and video messages.
CREATE TABLE attachments (
    message_id bigint,
    url        text,
    file_name  text,
    size_bytes bigint,
    width      integer,
    height     integer,
    duration_s integer
);

-- Group DMs: conversations of three or more users without a group; their
-- messages are messages whose group_id is the group DM's id.
CREATE TABLE group_dms (
    id         text,
    members    text[],
    created_at timestamptz,
    title      text,
    creator_id text
);

CREATE TABLE friendships (
    user_id    text,
    friend_id  text,
    remark     text,
    created_at timestamptz
);
