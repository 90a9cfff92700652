-- Deleting a picture cascades to active_pictures by picture_id. Without this index every deleted row
-- scanned the whole table (one row per user), so a purge of N pictures cost N full scans.
CREATE INDEX active_pictures_picture ON active_pictures (picture_id);
