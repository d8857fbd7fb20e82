from hpo.launch import run

run()
