-- +goose Up
-- Tags on hosted zones and health checks (Route 53's ChangeTagsForResource;
-- /v1's …/tags). A zone's tags go with it; a deleted health check keeps its
-- row (deleted_at), and its tags are then unreachable.
CREATE TABLE hosted_zone_tag (
    zone_id text NOT NULL REFERENCES hosted_zone (id) ON DELETE CASCADE,
    key     text NOT NULL,
    value   text NOT NULL,
    PRIMARY KEY (zone_id, key)
);

CREATE TABLE health_check_tag (
    health_check_id text NOT NULL REFERENCES health_check (id) ON DELETE CASCADE,
    key             text NOT NULL,
    value           text NOT NULL,
    PRIMARY KEY (health_check_id, key)
);

-- +goose Down
DROP TABLE health_check_tag;
DROP TABLE hosted_zone_tag;
