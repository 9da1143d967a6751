ALTER TABLE channels ADD COLUMN IF NOT EXISTS bannerinfo jsonb;
