-- What each office's holder is called (mayor, premier, president ...: the
-- keys of campaign.Titles), and the place's names in languages that do not
-- write it as the table does ("fr=Montréal"). Offices imported before were
-- all addressed as mayors.
ALTER TABLE targets ADD COLUMN title TEXT NOT NULL DEFAULT 'mayor';
ALTER TABLE targets ADD COLUMN names TEXT NOT NULL DEFAULT '';
