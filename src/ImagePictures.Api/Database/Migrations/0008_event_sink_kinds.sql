-- The kinds of sink are the classes registered with AddEventSink, not a list kept here as well:
-- a row of a kind that no instance knows is simply not delivered.
ALTER TABLE event_sinks DROP CONSTRAINT IF EXISTS event_sinks_kind_check;
