-- Second database on the compose PostgreSQL: the chiso warehouse (Airflow keeps its own).
create role chiso login password 'chiso';
create database chiso owner chiso;
