from mllm_lab.cli import main

main()
