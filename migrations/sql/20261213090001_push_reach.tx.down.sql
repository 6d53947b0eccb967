DROP TABLE push_reach;
